export { compileFilter, compileNode, describeFilter, parseFilter, FILTER_HELP } from "./compile.ts";
export type { Filter, Predicate } from "./compile.ts";
export { FilterSyntaxError, MAX_DEPTH, caseSensitiveFromEnv } from "./parser.ts";
export type {
  AndNode,
  FilterNode,
  FilterOptions,
  FlagNode,
  NotNode,
  OrNode,
  RegexNode,
  StatusNode,
} from "./parser.ts";
export { tokenize } from "./lexer.ts";
export type { Token, TokenKind } from "./lexer.ts";
export { OPERATORS, lookupOperator } from "./operators.ts";
export type { FlagCode, FlagOperator, OperatorSpec, RegexCode, RegexOperator, StatusOperator } from "./operators.ts";
export type {
  FilterableDNSFlow,
  FilterableDNSRequest,
  FilterableDNSResponse,
  FilterableFlow,
  FilterableHTTPFlow,
  FilterableHTTPRequest,
  FilterableHTTPResponse,
  FilterableHeaders,
  FilterableMessage,
  FilterableStreamFlow,
} from "./types.ts";
