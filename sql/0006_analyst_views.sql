-- 0006: the analyst contract — stable, exactly named daily views.
--
-- `day` is the event-time date in Asia/Ho_Chi_Minh; `locality_code` the current 2-digit
-- code; every count is exact (computed from de-duplicated data). Rates are NULL when
-- their denominator is 0. Each view reads the hourly roll-ups (the offset +07:00 is a
-- whole number of hours, so every UTC hour lies inside one Vietnamese day).
-- v_daily_totals sums the roll-ups per day once; every other view selects from it.

-- Every daily sum, per day and province; paid_dossiers_state merges further (months).
CREATE VIEW IF NOT EXISTS {{database}}.v_daily_totals AS
SELECT
    toDate(window_start, 'Asia/Ho_Chi_Minh') AS day,
    locality_code,
    sum(received)                 AS received,
    sum(received_online)          AS received_online,
    sum(received_full_online)     AS received_full_online,
    sum(received_fee_required)    AS received_fee_required,
    sum(completed)                AS completed,
    sum(completed_on_time)        AS completed_on_time,
    sum(completed_late)           AS completed_late,
    sum(completed_on_time_unknown) AS completed_on_time_unknown,
    sum(completed_digitized)      AS completed_digitized,
    sum(rated)                    AS rated,
    sum(rated_dissatisfied)       AS rated_dissatisfied,
    sum(invoices_issued)          AS invoices_issued,
    sum(invoices_cancelled)       AS invoices_cancelled,
    sum(issued_amount_vnd)        AS issued_amount_vnd,
    sum(issued_vat_vnd)           AS issued_vat_vnd,
    sum(cancelled_amount_vnd)     AS cancelled_amount_vnd,
    sum(issued_with_code)         AS issued_with_code,
    sum(issued_without_code)      AS issued_without_code,
    sum(issued_cash_register)     AS issued_cash_register,
    sum(payments_succeeded)       AS payments_succeeded,
    sum(payments_failed)          AS payments_failed,
    sum(payments_refunded)        AS payments_refunded,
    sum(succeeded_amount_vnd)     AS succeeded_amount_vnd,
    sum(refunded_amount_vnd)      AS refunded_amount_vnd,
    uniqExactMergeState(r.paid_dossiers) AS paid_dossiers_state,
    uniqExactMerge(r.paid_dossiers) AS paid_dossiers,
    sum(events)                   AS events,
    sum(late_events)              AS late_events
FROM {{database}}.rollup_1h AS r FINAL
GROUP BY day, locality_code;

CREATE VIEW IF NOT EXISTS {{database}}.v_dossier_daily AS
SELECT day, locality_code, received, received_online, received_full_online,
       received_fee_required, completed, completed_on_time, completed_late,
       completed_digitized, rated, rated_dissatisfied
FROM {{database}}.v_daily_totals
WHERE received + completed + rated > 0;

CREATE VIEW IF NOT EXISTS {{database}}.v_invoice_daily AS
SELECT day, locality_code,
       invoices_issued AS issued, invoices_cancelled AS cancelled, issued_amount_vnd,
       issued_vat_vnd, cancelled_amount_vnd, issued_with_code AS with_code,
       issued_without_code AS without_code, issued_cash_register AS cash_register
FROM {{database}}.v_daily_totals
WHERE invoices_issued + invoices_cancelled > 0;

CREATE VIEW IF NOT EXISTS {{database}}.v_payment_daily AS
SELECT day, locality_code,
       payments_succeeded AS succeeded, payments_failed AS failed,
       payments_refunded AS refunded, succeeded_amount_vnd, refunded_amount_vnd, paid_dossiers
FROM {{database}}.v_daily_totals
WHERE payments_succeeded + payments_failed + payments_refunded > 0;

-- Headline indicators per day and province (Decision 766/QĐ-TTg vocabulary):
-- online_rate         = received_online / received
-- full_online_rate    = received_full_online / received          (toàn trình)
-- on_time_rate        = completed_on_time / (completed_on_time + completed_late)
-- digitization_rate   = completed_digitized / completed          (DuocSoHoa)
-- online_payment_rate = min(1, paid_dossiers / received_fee_required)
-- satisfaction_rate   = max(0, 1 - completed_late / completed - rated_dissatisfied / rated),
--                       a term 0 when its denominator is 0, NULL when both are
--                       (Decision 766: 100% - (late % + dissatisfied %))
CREATE VIEW IF NOT EXISTS {{database}}.v_indicators_daily AS
SELECT
    d.day AS day,
    d.locality_code AS locality_code,
    l.locality_name AS locality_name,
    if(d.received = 0, NULL, d.received_online / d.received) AS online_rate,
    if(d.received = 0, NULL, d.received_full_online / d.received) AS full_online_rate,
    if(d.completed_on_time + d.completed_late = 0, NULL,
       d.completed_on_time / (d.completed_on_time + d.completed_late)) AS on_time_rate,
    if(d.completed = 0, NULL, d.completed_digitized / d.completed) AS digitization_rate,
    if(d.received_fee_required = 0, NULL,
       least(1.0, d.paid_dossiers / d.received_fee_required)) AS online_payment_rate,
    if(d.completed = 0 AND d.rated = 0, NULL,
       greatest(0.0, 1.0 - if(d.completed = 0, 0.0, d.completed_late / d.completed)
                         - if(d.rated = 0, 0.0, d.rated_dissatisfied / d.rated))) AS satisfaction_rate,
    d.invoices_issued AS invoices_issued,
    d.issued_amount_vnd AS invoice_amount_vnd,
    d.succeeded_amount_vnd AS payment_amount_vnd
FROM {{database}}.v_daily_totals AS d
LEFT JOIN {{database}}.v_localities AS l ON l.locality_code = d.locality_code;
