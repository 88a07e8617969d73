/** Result types of `FailoverCoordinator`. */

export interface VoteCount {
  down: number;
  up: number;
  /** Regions without a live vote (never voted, or their vote's TTL ran out). */
  missing: number;
}

export type FailoverDecision =
  | {
      failover: true;
      /** True for exactly one caller per epoch: the one whose script recorded the decision. */
      recorded: boolean;
      epoch: number;
      from: string;
      to: string;
      decidedBy: string;
      decidedAt: Date;
      votes: VoteCount;
    }
  | {
      failover: false;
      reason: 'no-majority' | 'primary-changed';
      epoch: number;
      primary: string;
      votes: VoteCount;
    };

export interface FailoverEvents {
  decision: Extract<FailoverDecision, { failover: true }>;
}

/** The decision JSON the decide script stores per epoch. */
export interface Recorded {
  epoch: number;
  from: string;
  to: string;
  decided_by: string;
  decided_at: number;
}
