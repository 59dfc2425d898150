import { Migration } from '@mikro-orm/migrations';

/** The first schema. Indexes follow the queries: keyset pages by id, per-endpoint windows, the reconciler. */
export class Migration20261123000000_initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
create table applications (
  id text primary key,
  uid text,
  name text not null,
  rate_limit integer,
  metadata jsonb not null default '{}',
  webhooks_enabled boolean not null default true,
  retention_days integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index applications_uid_key on applications (uid) where uid is not null;

create table event_types (
  name text primary key,
  description text not null default '',
  schemas jsonb,
  example jsonb,
  archived boolean not null default false,
  deprecated boolean not null default false,
  feature_flag text,
  group_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table endpoints (
  id text primary key,
  app_id text not null references applications (id) on delete cascade,
  uid text,
  url text not null,
  description text not null default '',
  version integer not null default 1,
  disabled boolean not null default false,
  disabled_reason text,
  event_types text[],
  channels text[],
  throttle_rate integer,
  metadata jsonb not null default '{}',
  secret_enc text not null,
  previous_secrets jsonb not null default '[]',
  headers jsonb not null default '{}',
  sensitive_headers_enc text,
  bearer_token_enc text,
  method text not null default 'POST',
  payload_template text,
  failing_since timestamptz,
  throttle_next_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index endpoints_app_idx on endpoints (app_id, id);
create unique index endpoints_app_uid_key on endpoints (app_id, uid) where uid is not null;

create table messages (
  id text primary key,
  app_id text not null references applications (id) on delete cascade,
  event_type text not null,
  event_id text,
  channels text[],
  tags text[],
  payload jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index messages_app_idx on messages (app_id, id);
create index messages_app_type_idx on messages (app_id, event_type, id);
create unique index messages_app_event_id_key on messages (app_id, event_id) where event_id is not null;
create index messages_expires_idx on messages (expires_at) where payload is not null;

create table deliveries (
  msg_id text not null references messages (id) on delete cascade,
  endpoint_id text not null,
  app_id text not null,
  event_type text not null,
  state text not null,
  dispatched_at timestamptz,
  workflow_id text,
  attempt_count integer not null default 0,
  last_attempt_at timestamptz,
  next_attempt_at timestamptz,
  last_status_code integer,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (msg_id, endpoint_id)
);
create index deliveries_endpoint_idx on deliveries (endpoint_id, msg_id);
create index deliveries_endpoint_state_idx on deliveries (endpoint_id, state, msg_id);
create index deliveries_undispatched_idx on deliveries (created_at) where dispatched_at is null;

create table attempts (
  id text primary key,
  msg_id text not null,
  endpoint_id text not null,
  app_id text not null,
  url text not null,
  status smallint not null,
  response_status_code smallint not null,
  response text not null default '',
  response_duration_ms integer not null,
  trigger_type smallint not null,
  attempt_number integer not null,
  workflow_id text,
  error_kind text,
  timestamp timestamptz not null
);
create index attempts_msg_idx on attempts (msg_id, id);
create index attempts_endpoint_idx on attempts (endpoint_id, id);
create index attempts_app_idx on attempts (app_id, id);

create table idempotency_records (
  key text primary key,
  state text not null,
  status_code integer,
  body jsonb,
  created_at timestamptz not null,
  expires_at timestamptz not null
);
create index idempotency_records_expires_idx on idempotency_records (expires_at);

create table background_tasks (
  id text primary key,
  app_id text,
  task text not null,
  status text not null,
  data jsonb not null default '{}',
  workflow_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index background_tasks_app_idx on background_tasks (app_id, id);
`);
  }
}
