import {
  type AgentOptions,
  type ClientRequest,
  Agent as HttpAgent,
  type RequestOptions,
  request as httpRequest,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { DestinationPolicy } from './destination-policy.js';
import { EgressRefusedError } from './egress-refused-error.js';

/**
 * node:http(s) requests under one destination policy: a URL the policy refuses throws an
 * `EgressRefusedError` before anything is sent, and every connection resolves its host through
 * the policy's lookup. Each instance keeps its own connection pools, so a kept-alive connection
 * never serves a request of another policy. node:http never follows a redirect.
 */
export class GuardedHttp {
  private readonly agents: { http: HttpAgent; https: HttpsAgent };

  constructor(
    readonly policy: DestinationPolicy,
    agentOptions: AgentOptions = {},
  ) {
    const options = { ...agentOptions, lookup: policy.lookup };
    this.agents = { http: new HttpAgent(options), https: new HttpsAgent(options) };
  }

  request(url: URL, options: RequestOptions): ClientRequest {
    const problem = this.policy.urlProblem(url);
    if (problem) throw new EgressRefusedError(problem);
    const https = url.protocol === 'https:';
    return (https ? httpsRequest : httpRequest)(url, {
      ...options,
      agent: https ? this.agents.https : this.agents.http,
      lookup: this.policy.lookup,
    });
  }
}
