-- One row per reason two source records are the same person (the identity graph's edges):
-- the same normalised email, the CRM ids Marketo carries, a lead's conversion, a CRM merge, a
-- Marketo merge. Edges only join records that exist as nodes. A shared mailbox (a role address
-- such as info@, or one address used by clearly different names: identity_shared_mailboxes) joins
-- nobody: its records join only by ids or by person matching's other evidence.
with nodes as (
    select * from {{ ref('int_identity_nodes') }}
),

shared_mailboxes as (
    select email from {{ ref('identity_shared_mailboxes') }}
),

by_email as (
    -- a star per email (every record to the smallest key), not a clique: same components, fewer edges
    select nodes.source_key, min(nodes.source_key) over (partition by nodes.email) as other_key
    from nodes
    left join shared_mailboxes on shared_mailboxes.email = nodes.email
    where nodes.email is not null and shared_mailboxes.email is null
),

marketo as (
    select * from {{ ref('stg_marketo__leads') }}
),

sfdc_ids as (
    select {{ source_key('lead_id', 'Marketo') }} as source_key, {{ source_key('sfdc_contact_id', 'Salesforce') }} as other_key,
        'marketo_sfdc_contact_id' as link_reason
    from marketo where sfdc_contact_id is not null
    union all
    select {{ source_key('lead_id', 'Marketo') }}, {{ source_key('sfdc_lead_id', 'Salesforce') }},
        'marketo_sfdc_lead_id'
    from marketo where sfdc_lead_id is not null
),

conversions as (
    select {{ source_key('lead_id', 'Salesforce') }} as source_key,
        {{ source_key('converted_contact_id', 'Salesforce') }} as other_key, 'lead_conversion' as link_reason
    from {{ ref('stg_salesforce__leads') }}
    where is_converted and converted_contact_id is not null
),

crm_merges as (
    select {{ source_key('record_id', 'Salesforce') }} as source_key,
        {{ source_key('master_record_id', 'Salesforce') }} as other_key, 'crm_merge' as link_reason
    from {{ ref('stg_salesforce__deleted_records') }}
    where object_name in ('Contact', 'Lead') and master_record_id is not null
),

marketo_merges as (
    select {{ source_key('merged_lead_id', 'Marketo') }} as source_key,
        {{ source_key('surviving_lead_id', 'Marketo') }} as other_key, 'marketo_merge' as link_reason
    from {{ ref('stg_marketo__lead_merges') }}
),

candidates as (
    select source_key, other_key, 'email' as link_reason from by_email where source_key <> other_key
    union all select * from sfdc_ids
    union all select * from conversions
    union all select * from crm_merges
    union all select * from marketo_merges
)

select distinct candidates.source_key, candidates.other_key, candidates.link_reason
from candidates
inner join nodes as a on a.source_key = candidates.source_key
inner join nodes as b on b.source_key = candidates.other_key
