/**
 * Recovers the request input from a chat prompt, so the simulated AI system
 * can compute the reference label behind the `openai-chat` adapter.
 *
 * Convention: the input is a JSON object, and `{{input}}` comes before any
 * other JSON object in the prompt template (such as `{{context}}`). A prompt
 * that is itself a JSON object with an `input` field also works. Otherwise
 * the whole prompt text stands for the input.
 */
export function embeddedInput(prompt: string): unknown {
  const whole = tryParse(prompt);
  if (whole.ok && typeof whole.value === 'object' && whole.value !== null && 'input' in whole.value) {
    return (whole.value as { input: unknown }).input;
  }
  for (let start = prompt.indexOf('{'); start !== -1; start = prompt.indexOf('{', start + 1)) {
    const end = matchingBrace(prompt, start);
    if (end === -1) continue;
    const parsed = tryParse(prompt.slice(start, end + 1));
    if (parsed.ok) return parsed.value;
  }
  return prompt;
}

/** Index of the `}` closing the object opened at `start`, skipping string contents; -1 if none. */
function matchingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
