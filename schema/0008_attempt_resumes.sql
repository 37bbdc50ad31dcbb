-- 0008_attempt_resumes.sql: which attempt of its worker an attempt resumes.
--
--   trial_attempts.resumes  for an attempt that resumed a lease (a worker
--                           that went on training while its attempt was
--                           given up, with no other worker on the trial):
--                           the attempt number that worker uses, which it
--                           sends in its PROGRESS and RESULT; NULL for an
--                           attempt handed out as JOB
--
-- A result that arrives after its trial ended is a resend (of the last
-- attempt, or of the attempt the last one resumes) or comes from an attempt
-- a later one replaced; the coordinator tells them apart by this column.
-- Before, it read the text of the 'lease_resumed' event; the rows made then
-- get the number from that text here.

ALTER TABLE trial_attempts ADD COLUMN resumes INTEGER CHECK (resumes >= 1);

UPDATE trial_attempts
SET resumes = (SELECT CAST(substr(e.detail, 9, instr(e.detail, ' of the worker') - 9) AS INTEGER)
               FROM events AS e
               WHERE e.kind = 'lease_resumed' AND e.trial_id = trial_attempts.trial_id
                 AND e.detail LIKE 'attempt % of the worker continues as attempt '
                                   || trial_attempts.attempt
               ORDER BY e.id DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM events AS e
              WHERE e.kind = 'lease_resumed' AND e.trial_id = trial_attempts.trial_id
                AND e.detail LIKE 'attempt % of the worker continues as attempt '
                                  || trial_attempts.attempt);
