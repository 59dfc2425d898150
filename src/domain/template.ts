import Mustache from 'mustache';

/**
 * Payload templates: a JSON document with `{{variables}}` (mustache, logic-less). Values
 * are JSON-escaped: a string inside quotes stays a string whatever it contains, and an
 * object or array placed bare becomes its JSON. Triple braces (unescaped) are refused.
 */
export interface TemplateVars {
  event: string;
  timestamp: number;
  msgId: string;
  eventId: string | null;
  endpointId: string;
  payload: Record<string, unknown>;
}

export const TEMPLATE_VARIABLES = [
  'event',
  'timestamp',
  'msgId',
  'eventId',
  'endpointId',
  'payload',
] as const;

export class TemplateError extends Error {}

function escapeJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value).slice(1, -1);
  return JSON.stringify(value) ?? 'null';
}

function view(vars: TemplateVars): Record<string, unknown> {
  // The payload's own top-level fields are reachable directly, e.g. {{data.contact.firstName}}.
  return { ...vars.payload, ...vars };
}

export function renderTemplate(template: string, vars: TemplateVars): string {
  return Mustache.render(template, view(vars), {}, { escape: escapeJson as (v: string) => string });
}

/** Refuses a template that cannot produce valid JSON for the example; the message says where. */
export function checkTemplate(template: string, example: TemplateVars): void {
  let tokens: unknown[];
  try {
    tokens = Mustache.parse(template);
  } catch (err) {
    throw new TemplateError(`Template syntax: ${(err as Error).message}`);
  }
  const walk = (list: unknown[]): void => {
    for (const t of list as Array<[string, string, number, number, unknown[]?]>) {
      if (t[0] === '&' || t[0] === '{')
        throw new TemplateError(`Unescaped variable {{{${t[1]}}}} at character ${t[2]}: use {{${t[1]}}}`);
      if (t[0] === '>') throw new TemplateError(`Partials are not supported (character ${t[2]})`);
      if (Array.isArray(t[4])) walk(t[4]);
    }
  };
  walk(tokens);
  const rendered = renderTemplate(template, example);
  try {
    JSON.parse(rendered);
  } catch (err) {
    throw new TemplateError(
      `Template does not render to valid JSON for the event's example: ${(err as Error).message}`,
    );
  }
}
