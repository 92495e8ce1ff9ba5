// Errors in each provider's shape, and the ones the fault profiles inject.

// ---- errors in each provider's shape

export const ANTHROPIC_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

export function anthropicError(status: number, message: string): object {
  return { type: 'error', error: { type: ANTHROPIC_ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'), message } };
}

export function openaiError(status: number, message: string, param: string | null = null): object {
  const [type, code] =
    status === 429 ? ['requests', 'rate_limit_exceeded']
    : status === 404 ? ['invalid_request_error', 'not_found']
    : status === 401 ? ['invalid_request_error', 'invalid_api_key']
    : status >= 500 ? ['server_error', status === 503 ? 'service_unavailable' : null]
    : ['invalid_request_error', null];
  return { error: { message, type, param, code } };
}

export const INJECTED_MESSAGES: Record<number, string> = {
  429: 'Rate limit reached',
  500: 'Internal server error',
  503: 'Service unavailable',
  529: 'Overloaded',
};

/** The headers of an injected error: `retry-after` when the profile sets it, as the real APIs send on 429/529/503. */
export const injectedHeaders = (retryAfterSec: number | null): Record<string, string> => (retryAfterSec === null ? {} : { 'retry-after': String(retryAfterSec) });
