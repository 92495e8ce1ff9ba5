// Failures' messages and stack traces go into history as an encoded payload, so the payload codec encrypts them
// too (an error can quote a question, a row or a provider's reply). Loaded by path: the worker (activity failures)
// and the workflow bundle (workflow failures) each build their own from this module.
import { DefaultFailureConverter } from '@temporalio/common';

/** The failure converter of the worker and the workflow bundle: message and stack trace encoded (and so encrypted). */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
