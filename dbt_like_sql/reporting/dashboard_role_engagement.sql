-- The mean person engagement score (0 without one) of the members in each role, over every buying
-- group: engagement by role.
select
    member.role,
    avg(coalesce(person_score.score, 0)) as mean_person_score,
    count(*) as members
from {{ ref('buying_group_members') }} as member
left join {{ ref('person_engagement_scores') }} as person_score on person_score.person_id = member.person_id
group by member.role
order by member.role
