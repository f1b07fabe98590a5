{{ config(materialized='incremental', unique_key='activity_id', removed_when='person_id is null',
    on_schema_change='rebuild') }}
-- One row per scored activity of a person, with its kind (config scoring.activity_kinds, as the
-- table scoring_activity_kinds): Marketo activities by type name or id, Marketo program status
-- changes (activity 104) by their new status, CRM campaign-member statuses, LinkedIn form
-- responses, and opens and clicks of journey emails (tracking events, which name the person).
-- Activities of merged-away records count for the person they became. An open or a click counts
-- once per message (its first): a signed tracking link can be replayed without limit, and a
-- replay is no new engagement; every raw event stays in stg_tracking__events. An event without a
-- message token (older events) counts on its own: nothing says which message it was.
--
-- Incremental: a build adds the Marketo activities of the load batches after the last one here,
-- and the other origins' changes (a few rows: campaign members, forms, journey emails), found by
-- comparing them with what is here. A change in what the Marketo rows were joined with (the
-- person registry after identity moved records, the kinds' config, this model's code: inputs_hash)
-- re-derives every Marketo row: a row's person and kind are never stale.
{#- The Marketo activities with what their kinds are matched on. Written out in both places that
    read it, not as a CTE: DuckDB materialises a CTE read twice, every row of 24M. -#}
{% set marketo %}
    (select
        activities.activity_id,
        activities.source_batch,
        {{ source_key('activities.lead_id', 'Marketo') }} as source_key,
        activities.activity_at,
        activities.activity_type_id,
        lower(trim(activities.activity_type_name)) as type_name,
        case when activities.activity_type_id = 104
            then lower(trim({{ attribute('activities.attributes', ['New Status', 'new_status']) }})) end
            as new_status
    from {{ ref('stg_marketo__activities') }} as activities
    {%- if is_incremental() %}
    where activities.source_batch > (select coalesce(max(source_batch), -1) from {{ this }})
        or (select inputs_changed from state)
    {%- endif %})
{% endset %}
with kinds as (
    select source, match, kind from {{ ref('scoring_activity_kinds') }}
),

inputs as (
    -- What a Marketo row is derived with besides its activity: its person (the registry) and its
    -- kind (the config), by this model's code. Order-free fingerprints: no sort of 1.8M keys.
    select md5({{ code_version }}
        || ':' || coalesce((select {{ set_fingerprint(['source_key', 'person_id']) }} from {{ ref('person_registry') }}), '-')
        || ':' || coalesce((select {{ set_fingerprint(['source', 'match', 'kind']) }} from kinds), '-')) as inputs_hash
),
{%- if is_incremental() %}

state as (
    select exists (
        select 1 from {{ this }} as here
        where here.origin = 'marketo' and here.inputs_hash is distinct from (select inputs_hash from inputs)
    ) as inputs_changed
),
{%- endif %}

marketo_keys as (
    -- The kinds of each distinct (type id, type name, new program status): by the type's name or
    -- id, or by the new status. Matched on these few values rather than on every activity: a join
    -- on OR is a nested loop (5.7 s over 24M activities).
    select keys.activity_type_id, keys.type_name, keys.new_status, kinds.kind
    from (select distinct activity_type_id, type_name, new_status from {{ marketo }} as marketo) as keys
    inner join kinds
        on (kinds.source = 'marketo_activity_type'
            and (kinds.match = keys.type_name or kinds.match = cast(keys.activity_type_id as varchar)))
        or (kinds.source = 'marketo_program_status' and kinds.match = keys.new_status)
),

marketo_kinds as (
    select marketo.activity_id, marketo.source_key, marketo.activity_at, keys.kind, 'marketo' as origin,
        marketo.source_batch
    from {{ marketo }} as marketo
    inner join marketo_keys as keys
        -- The same key, NULL matching NULL, in plain equalities that every engine can hash.
        on coalesce(keys.activity_type_id, 0) = coalesce(marketo.activity_type_id, 0)
        and (keys.activity_type_id is null) = (marketo.activity_type_id is null)
        and coalesce(keys.type_name, '') = coalesce(marketo.type_name, '')
        and (keys.type_name is null) = (marketo.type_name is null)
        and coalesce(keys.new_status, '') = coalesce(marketo.new_status, '')
        and (keys.new_status is null) = (marketo.new_status is null)
),

campaign_kinds as (
    select
        'cm:' || members.campaign_member_id as activity_id,
        {{ source_key('coalesce(members.contact_id, members.lead_id)', 'Salesforce') }} as source_key,
        coalesce(members.last_modified_at, members.created_at) as activity_at,
        kinds.kind,
        'crm_campaign' as origin,
        cast(null as bigint) as source_batch
    from {{ ref('stg_salesforce__campaign_members') }} as members
    inner join kinds
        on kinds.source = 'crm_campaign_member_status' and kinds.match = lower(trim(members.member_status))
    where coalesce(members.contact_id, members.lead_id) is not null
),

linkedin_kinds as (
    select
        'li:' || responses.lead_gen_response_id as activity_id,
        {{ source_key('responses.lead_gen_response_id', 'LinkedIn') }} as source_key,
        responses.submitted_at as activity_at,
        kinds.kind,
        'linkedin' as origin,
        cast(null as bigint) as source_batch
    from {{ ref('stg_linkedin__lead_gen_responses') }} as responses
    inner join kinds on kinds.source = 'linkedin_form_response'
    where not responses.is_test_lead and responses.submitted_at is not null
),

tracking_firsts as (
    select
        events.person_id,
        events.event_id,
        events.event,
        events.occurred_at,
        row_number() over (
            -- An event without a token (older events) is its own message: nothing ties it to another.
            partition by
                events.message_token,
                case when events.message_token is null then events.event_id end,
                events.person_id,
                events.event
            order by events.occurred_at, events.event_id
        ) as nth_of_message
    from {{ ref('stg_tracking__events') }} as events
    where events.person_id is not null and events.occurred_at is not null
),

scored as (
    select * from marketo_kinds
    union all select * from campaign_kinds
    union all select * from linkedin_kinds
),

person_activities as (
    select
        registry.person_id, scored.activity_id, scored.kind, scored.activity_at, scored.origin,
        scored.source_key, scored.source_batch
    from scored
    inner join {{ ref('person_registry') }} as registry on registry.source_key = scored.source_key
    where scored.activity_at is not null

    union all

    select
        firsts.person_id,
        'tk:' || firsts.event_id as activity_id,
        kinds.kind,
        firsts.occurred_at as activity_at,
        'tracking' as origin,
        cast(null as varchar) as source_key,
        cast(null as bigint) as source_batch
    from tracking_firsts as firsts
    inner join kinds on kinds.source = 'tracking_event' and kinds.match = firsts.event
    where firsts.nth_of_message = 1
)

{%- if is_incremental() %},

-- The other origins' rows here now: those added or changed are written again, those gone are
-- removed (a row with no person_id).
others_here as (
    select * from {{ this }} where origin <> 'marketo'
),

others_now as (
    select * from person_activities where origin <> 'marketo'
),

changes as (
    select * from person_activities where origin = 'marketo'
    union all
    select now.*
    from others_now as now
    left join others_here as here on here.activity_id = now.activity_id
    where here.activity_id is null
        or here.person_id is distinct from now.person_id
        or here.kind is distinct from now.kind
        or here.activity_at is distinct from now.activity_at
        or here.origin is distinct from now.origin
        or here.source_key is distinct from now.source_key
    union all
    select
        cast(null as varchar), here.activity_id, here.kind, here.activity_at, here.origin,
        here.source_key, here.source_batch
    from others_here as here
    where not exists (select 1 from others_now as now where now.activity_id = here.activity_id)
    union all
    -- Marketo rows whose person or kind moved and are not derived again above: none unless the
    -- inputs changed, and then every Marketo row was; those left (their record gone) are removed.
    select
        cast(null as varchar), here.activity_id, here.kind, here.activity_at, here.origin,
        here.source_key, here.source_batch
    from {{ this }} as here
    where here.origin = 'marketo' and (select inputs_changed from state)
        and not exists (
            select 1 from person_activities as now
            where now.origin = 'marketo' and now.activity_id = here.activity_id
        )
)

select changes.*, case when changes.origin = 'marketo' then inputs.inputs_hash end as inputs_hash
from changes
cross join inputs
{%- else %}

select
    person_activities.*,
    case when person_activities.origin = 'marketo' then inputs.inputs_hash end as inputs_hash
from person_activities
cross join inputs
{%- endif %}
