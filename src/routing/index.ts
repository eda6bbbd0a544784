// Exchange types and binding matchers (pure: no I/O, nothing of the cluster). See docs/routing-and-meta.md.
import { DirectMatcher } from './direct.js';
import { FanoutMatcher } from './fanout.js';
import { HeadersMatcher } from './headers.js';
import { TopicMatcher } from './topic.js';
import type { ExchangeType, Matcher } from './types.js';

export * from './types.js';
export * from './values.js';
export { DirectMatcher } from './direct.js';
export { FanoutMatcher } from './fanout.js';
export { TopicMatcher, splitTopicKey } from './topic.js';
export { HeadersMatcher, headersMatch, validateHeadersBinding, xMatchOf, type XMatch } from './headers.js';

export function newMatcher(type: ExchangeType): Matcher {
  switch (type) {
    case 'direct': return new DirectMatcher();
    case 'fanout': return new FanoutMatcher();
    case 'topic': return new TopicMatcher();
    case 'headers': return new HeadersMatcher();
  }
}
