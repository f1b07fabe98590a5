-- One row per sales decision on a marketing-qualified account, the last copy when a decision was
-- landed twice (a corrected export). Values are as sales wrote them; `sales_feedback` checks them.
select * from (
    select
        trim(feedback_id) as feedback_id,
        {{ text('account_id') }} as account_id,
        lower({{ text('solution_interest') }}) as solution_interest,
        lower({{ text('decision') }}) as decision,
        {{ text('reason') }} as reason,
        {{ to_timestamp('decided_at') }} as decided_at,
        lower({{ text('decided_by') }}) as decided_by,
        _source_file as source_file,
        _source_row as source_row,
        row_number() over (partition by trim(feedback_id) order by _source_batch desc, _source_row desc)
            as _copy_rank
    from {{ source('sales', 'feedback') }}
) as copies
where _copy_rank = 1
