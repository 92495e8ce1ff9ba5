import { POLICY_FALLBACK_ANSWER } from '../../workflows/shared/answers.ts';
import type { DeniedTopic } from '../../workflows/shared/tenant-settings.ts';
import { buildSystemPrompt } from '../generate-answer/prompt.ts';
import { abortTurnWork } from '../turn-aborts.ts';
import { deniedTopicFindings, injectionFindings, MAX_MESSAGE_CHARS, outputPolicyFindings, promptFingerprints, redactPii } from './rules.ts';

/** Result of the input guardrail: whether the turn may go on, and the message with PII removed. */
export interface InputGuardrailResult {
  allowed: boolean;
  reasons: string[];
  redactedMessage: string;
  redactions: number;
}

/** Result of the output guardrail on the whole answer. */
export interface OutputGuardrailResult {
  answer: string;
  redactions: number;
  violations: string[];
}

const fingerprints = new Map<string, Set<string>>();
function fingerprintsOf(tenantId: string): Set<string> {
  let f = fingerprints.get(tenantId);
  if (!f) {
    fingerprints.set(tenantId, (f = promptFingerprints(buildSystemPrompt(tenantId))));
    if (fingerprints.size > 10_000) fingerprints.delete(fingerprints.keys().next().value as string);
  }
  return f;
}

/** The output check on a whole answer: PII redaction and the policy check against the tenant's real prompt. */
export function checkOutput(tenantId: string, answer: string): OutputGuardrailResult {
  const r = redactPii(answer);
  const violations = outputPolicyFindings(r.text, fingerprintsOf(tenantId));
  return { answer: violations.length ? POLICY_FALLBACK_ANSWER : r.text, redactions: r.redactions, violations };
}

/** Guardrail activities: pure rules, no dependencies (they run as local activities). */
export function createGuardrailActivities() {
  return {
    /** Input guardrail: length, prompt-injection rules, the tenant's denied topics, PII redaction. */
    async checkInputGuardrails(input: { message: string; deniedTopics?: DeniedTopic[] }): Promise<InputGuardrailResult> {
      const reasons: string[] = [];
      if (input.message.trim().length === 0) reasons.push('empty');
      if (input.message.length > MAX_MESSAGE_CHARS) reasons.push('too-long');
      reasons.push(...injectionFindings(input.message).map((f) => `injection:${f}`));
      reasons.push(...deniedTopicFindings(input.message, input.deniedTopics ?? []).map((t) => `topic:${t}`));
      const r = redactPii(input.message);
      // A deny stops the capture, detect and embedding already running for this turn (see turn-aborts.ts).
      if (reasons.length > 0) abortTurnWork();
      return { allowed: reasons.length === 0, reasons, redactedMessage: r.text, redactions: r.redactions };
    },

    /** Output guardrail: PII redaction on the whole answer (the stream was redacted already) and the policy check against the tenant's real prompt. */
    async checkOutputGuardrails(input: { tenantId: string; answer: string }): Promise<OutputGuardrailResult> {
      return checkOutput(input.tenantId, input.answer);
    },
  };
}
