-- Journey emails sent, and the share opened and clicked (tracking events by message token), by the
-- week they were sent. The outbox is read as delivery left it (`journey_deliveries` marks the
-- messages it sent).
with events as (
    select
        message_token,
        max(case when event = 'open' then 1 else 0 end) as opened,
        max(case when event = 'click' then 1 else 0 end) as clicked
    from {{ ref('stg_tracking__events') }}
    group by 1
),

weekly as (
    select
        {{ week('outbox.sent_at') }} as week,
        outbox.journey_id,
        count(*) as sent,
        cast(sum(coalesce(events.opened, 0)) as bigint) as opened,
        cast(sum(coalesce(events.clicked, 0)) as bigint) as clicked
    from {{ ref('journey_deliveries') }} as outbox
    left join events
        on events.message_token
        = replace(replace(split_part(outbox.message_id, '@', 1), '<', ''), '>', '')
    where outbox.channel = 'email'
        and outbox.status = 'sent'
        and outbox.journey_id is not null
        and not coalesce(outbox.test, false)
    group by 1, 2
)

select
    week,
    journey_id,
    sent,
    opened,
    clicked,
    {{ rate('opened', 'sent') }} as open_rate,
    {{ rate('clicked', 'sent') }} as click_rate
from weekly
