-- One row per tracking event (open, click, unsubscribe, bounce) of a journey email, the first
-- copy when a file was landed twice. person_id is the unified person the message went to.
select * from (
    select
        trim(event_id) as event_id,
        {{ to_timestamp('occurred_at') }} as occurred_at,
        lower({{ text('event') }}) as event,
        {{ text('message_token') }} as message_token,
        {{ text('person_id') }} as person_id,
        {{ text('url') }} as url,
        {{ text('user_agent') }} as user_agent,
        _source_file as source_file,
        row_number() over (partition by trim(event_id) order by _source_batch, _source_row) as _copy_rank
    from {{ source('tracking', 'events') }}
) as copies
where _copy_rank = 1
