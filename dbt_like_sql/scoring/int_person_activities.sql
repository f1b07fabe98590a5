-- One row per scored activity of a person, with its kind (config scoring.activity_kinds, as the
-- table scoring_activity_kinds): Marketo activities by type name or id, Marketo program status
-- changes (activity 104) by their new status, CRM campaign-member statuses, LinkedIn form
-- responses, and opens and clicks of journey emails (tracking events, which name the person).
-- Activities of merged-away records count for the person they became. An open or a click counts
-- once per message (its first): a signed tracking link can be replayed without limit, and a
-- replay is no new engagement; every raw event stays in stg_tracking__events. An event without a
-- message token (older events) counts on its own: nothing says which message it was.
{#- The Marketo activities with what their kinds are matched on. Written out in both places that
    read it, not as a CTE: DuckDB materialises a CTE read twice, every row of 24M. -#}
{% set marketo %}
    (select
        activities.activity_id,
        {{ source_key('activities.lead_id', 'Marketo') }} as source_key,
        activities.activity_at,
        activities.activity_type_id,
        lower(trim(activities.activity_type_name)) as type_name,
        case when activities.activity_type_id = 104
            then lower(trim({{ attribute('activities.attributes', ['New Status', 'new_status']) }})) end
            as new_status
    from {{ ref('stg_marketo__activities') }} as activities)
{% endset %}
with kinds as (
    select source, match, kind from {{ ref('scoring_activity_kinds') }}
),

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
    select marketo.activity_id, marketo.source_key, marketo.activity_at, keys.kind, 'marketo' as origin
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
        'crm_campaign' as origin
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
        'linkedin' as origin
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
)

select registry.person_id, scored.activity_id, scored.kind, scored.activity_at, scored.origin, scored.source_key
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
    cast(null as varchar) as source_key
from tracking_firsts as firsts
inner join kinds on kinds.source = 'tracking_event' and kinds.match = firsts.event
where firsts.nth_of_message = 1
