/**
 * The API reference page at /docs, rendered on the server from the OpenAPI document: no
 * script, no CDN, nothing fetched by the browser (the machines it runs on may have no
 * internet). Operations are grouped by tag; schemas are shown as JSON Schema with links
 * between components.
 */

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  parameters?: Array<{ name: string; in: string; required?: boolean; description?: string; schema?: Json }>;
  requestBody?: { content?: Record<string, { schema?: Json }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Json }> }>;
  security?: unknown[];
}
interface Doc {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Json> };
}

export const REFERENCE_CSS = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#fafbfc}
header{background:#1d2330;color:#fff;padding:1rem 2rem}header a{color:#9cc3ff}
main{display:flex}nav{width:16rem;padding:1rem;position:sticky;top:0;height:100vh;overflow:auto;border-right:1px solid #e3e6ea}
nav a{display:block;color:#1d2330;text-decoration:none;padding:.1rem 0}nav a:hover{text-decoration:underline}
section{padding:1rem 2rem;max-width:60rem;flex:1}h2{border-bottom:2px solid #e3e6ea;margin-top:2rem}
.op{background:#fff;border:1px solid #e3e6ea;border-radius:6px;padding:.75rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#0a7d32}.post{color:#1457c2}.put{color:#8a5a00}.patch{color:#6b3fb5}.delete{color:#b42318}
code,pre{font:13px ui-monospace,monospace}pre{background:#f3f4f6;padding:.5rem;overflow:auto;border-radius:4px}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #e3e6ea;padding:.2rem .5rem;text-align:left;vertical-align:top}
.muted{color:#667085}
`;

const escape = (s: unknown) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
const anchor = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, '-');
const refName = (ref: string) => ref.replace('#/components/schemas/', '');

/** A short type for tables: `string`, `ApplicationOut`, `array of string`, … */
function typeOf(schema: Json | undefined): string {
  if (!schema) return '';
  if (typeof schema.$ref === 'string')
    return `<a href="#schema-${anchor(refName(schema.$ref))}">${escape(refName(schema.$ref))}</a>`;
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Json[]).map(typeOf).join(' | ');
  if (Array.isArray(schema.enum))
    return (schema.enum as unknown[]).map((v) => `<code>${escape(JSON.stringify(v))}</code>`).join(' | ');
  const t = Array.isArray(schema.type) ? (schema.type as string[]).join(' | ') : String(schema.type ?? 'any');
  if (schema.type === 'array') return `array of ${typeOf(schema.items as Json)}`;
  return escape(t);
}

/** The schema as indented JSON, with `$ref`s turned into links. */
function schemaBlock(schema: Json): string {
  const text = escape(JSON.stringify(schema, null, 2));
  return `<pre>${text.replace(/&quot;#\/components\/schemas\/([A-Za-z0-9_.-]+)&quot;/g, (_m, n: string) => `&quot;<a href="#schema-${anchor(n)}">#/components/schemas/${escape(n)}</a>&quot;`)}</pre>`;
}

function operation(method: string, path: string, op: Operation): string {
  const params = op.parameters ?? [];
  const body = op.requestBody?.content?.['application/json']?.schema;
  const rows = params
    .map(
      (p) =>
        `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}</td><td>${typeOf(p.schema)}</td><td>${p.required ? 'yes' : ''}</td></tr>`,
    )
    .join('');
  const responses = Object.entries(op.responses ?? {})
    .map(
      ([status, r]) =>
        `<tr><td>${escape(status)}</td><td>${escape(r.description)}</td><td>${typeOf(r.content?.['application/json']?.schema)}</td></tr>`,
    )
    .join('');
  return `<div class="op" id="op-${anchor(op.operationId ?? `${method}-${path}`)}">
<div><span class="m ${escape(method)}">${escape(method)}</span> <code>${escape(path)}</code></div>
<p>${escape(op.summary)} <span class="muted">(${escape(op.operationId)}${op.security?.length === 0 ? ', no auth' : ''})</span></p>
${rows ? `<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Required</th></tr>${rows}</table>` : ''}
${body ? `<p>Request body (JSON): ${typeOf(body)}</p>` : ''}
<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>${responses}</table>
</div>`;
}

export function renderReference(doc: Doc): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = op.tags?.[0] ?? 'Other';
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag)!.push(operation(method, path, op));
    }
  }
  const tags = [...byTag.keys()].sort();
  const schemas = Object.entries(doc.components?.schemas ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escape(doc.info.title)} API reference</title><style>${REFERENCE_CSS}</style></head>
<body><header><h1>${escape(doc.info.title)} API reference <span class="muted">v${escape(doc.info.version)}</span></h1>
<p>${escape(doc.info.description)} The machine-readable document is <a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></header>
<main><nav>${tags.map((t) => `<a href="#tag-${anchor(t)}">${escape(t)}</a>`).join('')}<a href="#schemas">Schemas</a></nav>
<section>${tags.map((t) => `<h2 id="tag-${anchor(t)}">${escape(t)}</h2>${byTag.get(t)!.join('\n')}`).join('\n')}
<h2 id="schemas">Schemas</h2>
${schemas.map(([name, s]) => `<h3 id="schema-${anchor(name)}">${escape(name)}</h3>${schemaBlock(s)}`).join('\n')}
</section></main></body></html>`;
}
