-- 0012: v_service_index_monthly sums the hourly roll-ups per month directly.
--
-- 0007 read v_daily_totals, which merges the distinct-paid-dossier states of every hour
-- into one state per day (uniqExactMergeState), and merged those again per month: two
-- rounds of hash-set merges over every province and day on each query (the service-index
-- dashboard's panels took 200+ ms on 100 M events). The months are Asia/Ho_Chi_Minh
-- calendar months of whole UTC hours (+07:00 is a whole number of hours), so summing
-- rollup_1h per month gives the same sums and the same distinct count as summing its
-- days: same columns, same rows, same values (tests compare it with ground truth).
-- Scoring, rounding, rating bands and rank are unchanged; see 0007 and sql/README.md.

CREATE OR REPLACE VIEW {{database}}.v_service_index_monthly AS
WITH monthly AS
(
    SELECT
        toStartOfMonth(toDate(window_start, 'Asia/Ho_Chi_Minh')) AS month,
        locality_code,
        sum(received) AS received,
        sum(received_online) AS received_online,
        sum(received_full_online) AS received_full_online,
        sum(received_fee_required) AS received_fee_required,
        sum(completed) AS completed,
        sum(completed_on_time) AS completed_on_time,
        sum(completed_late) AS completed_late,
        sum(completed_digitized) AS completed_digitized,
        sum(rated) AS rated,
        sum(rated_dissatisfied) AS rated_dissatisfied,
        uniqExactMerge(paid_dossiers) AS paid_dossiers
    FROM {{database}}.rollup_1h FINAL
    GROUP BY month, locality_code
    HAVING received + completed + rated > 0  -- provinces with dossier activity that month
),
scored AS
(
    SELECT
        month,
        locality_code,
        if(completed_on_time + completed_late = 0, NULL,
           20 * completed_on_time / (completed_on_time + completed_late)) AS progress_score,
        if(completed = 0, NULL,
           22 * least(1.0, (completed_digitized / completed) / 0.80)) AS digitization_score,
        if(received = 0, NULL,
           22 / 3 * least(1.0, (received_online / received) / 0.50)
           + 22 / 3 * (received_full_online / received)
           + 22 / 3 * if(received_fee_required = 0, 1.0,
                         least(1.0, paid_dossiers / received_fee_required))) AS online_score,
        if(completed = 0 AND rated = 0, NULL,
           18 * greatest(0.0, 1.0 - if(completed = 0, 0.0, completed_late / completed)
                                  - if(rated = 0, 0.0, rated_dissatisfied / rated))) AS satisfaction_score
    FROM monthly
)
SELECT
    s.month AS month,
    s.locality_code AS locality_code,
    l.locality_name AS locality_name,
    round(s.progress_score, 2) AS progress_score,
    round(s.digitization_score, 2) AS digitization_score,
    round(s.online_score, 2) AS online_score,
    round(s.satisfaction_score, 2) AS satisfaction_score,
    round(ifNull(s.progress_score, 0) + ifNull(s.digitization_score, 0)
          + ifNull(s.online_score, 0) + ifNull(s.satisfaction_score, 0), 2) AS total,
    round(total * 100 / 82, 2) AS total_100,
    multiIf(total_100 >= 90, 'excellent', total_100 >= 70, 'good', total_100 >= 50, 'average', 'weak') AS rating,
    rank() OVER (PARTITION BY s.month ORDER BY total DESC) AS rank
FROM scored AS s
LEFT JOIN {{database}}.v_localities AS l ON l.locality_code = s.locality_code;
