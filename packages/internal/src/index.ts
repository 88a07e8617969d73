export { configErrorMap, describeConfigIssue, type SchemaIssue } from './config-issue.js';
export { Emitter, type EmitterOptions, type Listener, type Unsubscribe } from './emitter.js';
export { type JsonProblem, jsonProblem } from './json-problem.js';
export { createTracing, SPAN_STATUS_ERROR, type Tracing } from './tracing.js';
