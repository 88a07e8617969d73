// cluster-key-slot ships no types: Redis Cluster hash slot (CRC16 mod 16384, honouring {hashtags}).
declare module 'cluster-key-slot' {
  function calculateSlot(key: string | Buffer): number;
  namespace calculateSlot {
    function generateMulti(keys: (string | Buffer)[]): number;
  }
  export default calculateSlot;
}
