import { useMemo, useRef } from 'preact/hooks';
import {
  checkTemplate,
  renderTemplate,
  TemplateError,
  type TemplateVars,
} from '../../../src/domain/template';
import type { EventType } from '../types';

const BUILT_IN = [
  { name: 'event', hint: 'Event type, e.g. contact.created' },
  { name: 'timestamp', hint: 'Unix time of the message' },
  { name: 'msgId', hint: 'Message id' },
  { name: 'eventId', hint: 'Your event id, if one was given' },
  { name: 'endpointId', hint: 'This endpoint’s id' },
  { name: 'payload', hint: 'The whole payload as JSON' },
];

/** Leaf paths of an example payload: data.contact.firstName, …; arrays stay whole. */
export function payloadPaths(value: unknown, prefix = '', depth = 0): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value) || depth > 4) return prefix ? [prefix] : [];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    if (!/^[A-Za-z_][\w-]*$/.test(k)) return [];
    const path = prefix ? `${prefix}.${k}` : k;
    return v && typeof v === 'object' && !Array.isArray(v)
      ? [path, ...payloadPaths(v, path, depth + 1)]
      : [path];
  });
}

export function exampleOf(et: EventType | undefined): Record<string, unknown> {
  const ex =
    et?.example ??
    (et?.schemas as Record<string, { examples?: unknown[] }> | undefined)?.['1']?.examples?.[0];
  return ex && typeof ex === 'object' && !Array.isArray(ex) ? (ex as Record<string, unknown>) : {};
}

export interface TemplateCheck {
  ok: boolean;
  message: string;
  preview: string;
}

/** The same check the API runs at save (src/domain/template.ts), against the chosen event's example. */
export function validate(
  template: string,
  eventType: string,
  example: Record<string, unknown>,
): TemplateCheck {
  if (!template.trim()) return { ok: true, message: 'Empty: the default payload is sent.', preview: '' };
  const vars: TemplateVars = {
    event: eventType || 'example.event',
    timestamp: Math.floor(Date.now() / 1000),
    msgId: 'msg_example',
    eventId: 'evt_example',
    endpointId: 'ep_example',
    payload: example,
  };
  try {
    checkTemplate(template, vars);
    return {
      ok: true,
      message: 'Valid JSON for this example.',
      preview: JSON.stringify(JSON.parse(renderTemplate(template, vars)), null, 2),
    };
  } catch (err) {
    return {
      ok: false,
      message: err instanceof TemplateError ? err.message : String((err as Error).message),
      preview: '',
    };
  }
}

export function TemplateEditor(props: {
  value: string;
  onInput: (v: string) => void;
  eventTypes: EventType[];
  exampleType: string;
  onExampleType: (name: string) => void;
  serverError?: string;
}) {
  const area = useRef<HTMLTextAreaElement>(null);
  const et = props.eventTypes.find((e) => e.name === props.exampleType);
  const example = exampleOf(et);
  const check = useMemo(
    () => validate(props.value, props.exampleType, example),
    [props.value, props.exampleType, et],
  );
  const paths = payloadPaths(example);

  const insert = (name: string) => {
    const el = area.current;
    const token = `{{${name}}}`;
    const start = el?.selectionStart ?? props.value.length;
    const end = el?.selectionEnd ?? props.value.length;
    const next = props.value.slice(0, start) + token + props.value.slice(end);
    props.onInput(next);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + token.length, start + token.length);
    });
  };

  return (
    <div class="template-editor">
      <div class="field-row">
        <label for="tpl-example">Validate against the example of</label>
        <select
          id="tpl-example"
          value={props.exampleType}
          onChange={(e) => props.onExampleType((e.target as HTMLSelectElement).value)}
        >
          <option value="">(no event type)</option>
          {props.eventTypes.map((e) => (
            <option key={e.name} value={e.name}>
              {e.name}
            </option>
          ))}
        </select>
      </div>
      <div class="variables" role="group" aria-label="Insert a variable">
        {BUILT_IN.map((v) => (
          <button key={v.name} type="button" class="chip" title={v.hint} onClick={() => insert(v.name)}>
            {`{{${v.name}}}`}
          </button>
        ))}
        {paths.map((p) => (
          <button
            key={p}
            type="button"
            class="chip chip-path"
            title="From the event's payload"
            onClick={() => insert(p)}
          >
            {`{{${p}}}`}
          </button>
        ))}
      </div>
      <label for="payloadTemplate" class="sr-only">
        Payload template
      </label>
      <textarea
        id="payloadTemplate"
        ref={area}
        class="code"
        rows={8}
        spellcheck={false}
        placeholder={'{\n  "text": "{{event}} for {{data.contact.firstName}}"\n}'}
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
        aria-describedby="tpl-status"
        aria-invalid={!check.ok || !!props.serverError}
      />
      <p id="tpl-status" class={`hint ${check.ok && !props.serverError ? 'ok' : 'error'}`} aria-live="polite">
        {props.serverError ?? check.message}
      </p>
      {check.preview && (
        <details>
          <summary>Preview with this example</summary>
          <pre class="code-block">{check.preview}</pre>
        </details>
      )}
    </div>
  );
}
