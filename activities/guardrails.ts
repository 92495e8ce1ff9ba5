import { POLICY_FALLBACK_ANSWER } from '../workflows/shared/answers.ts';
import { injectionFindings, MAX_MESSAGE_CHARS, outputPolicyFindings, redactPii } from './guardrail-rules.ts';

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


/** Guardrail activities: pure rules, no dependencies (they run as local activities). */
export function createGuardrailActivities() {
  return {
    /** Input guardrail: length, prompt-injection rules, PII redaction. */
    async checkInputGuardrails(input: { message: string }): Promise<InputGuardrailResult> {
      const reasons: string[] = [];
      if (input.message.trim().length === 0) reasons.push('empty');
      if (input.message.length > MAX_MESSAGE_CHARS) reasons.push('too-long');
      reasons.push(...injectionFindings(input.message).map((f) => `injection:${f}`));
      const r = redactPii(input.message);
      return { allowed: reasons.length === 0, reasons, redactedMessage: r.text, redactions: r.redactions };
    },

    /** Output guardrail: PII redaction on the whole answer (the stream was redacted already) and the policy check. */
    async checkOutputGuardrails(input: { answer: string }): Promise<OutputGuardrailResult> {
      const r = redactPii(input.answer);
      const violations = outputPolicyFindings(r.text);
      return { answer: violations.length ? POLICY_FALLBACK_ANSWER : r.text, redactions: r.redactions, violations };
    },
  };
}
