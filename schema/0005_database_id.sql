-- 0005_database_id.sql: the database's identity.
--
--   database_identity    one row (one = 1): id, 32 lowercase hex characters
--                        (128 random bits from SQLite's randomblob, which
--                        reads the operating system's random source), and
--                        created_at, when this migration ran on this file.
--
-- The id is made once, when the database is created or when an older
-- database is upgraded to this version, and never changes (the triggers
-- below refuse any UPDATE or DELETE). The coordinator reads it when it opens
-- the database and sends it in every JOB ("db"); a worker echoes it in its
-- PROGRESS, HEARTBEAT and RESULT about that trial, and the coordinator
-- refuses a trial message whose "db" is not its own. So a worker that
-- trained for one database never reports into another one (a coordinator
-- restarted with another --db on the same endpoints), where trial ids and
-- attempt numbers mean other trials.
--
-- A copy of the file (`infomorph backup`, or a copy of the file while the
-- coordinator is stopped) keeps the id: restored in place of the original it
-- is the same database, and the workers' results for it are still welcome.
-- Two coordinators must not run at once on two copies of one database.

CREATE TABLE database_identity (
    one        INTEGER PRIMARY KEY CHECK (one = 1),
    id         TEXT    NOT NULL CHECK (length(id) = 32 AND id NOT GLOB '*[^0-9a-f]*'),
    created_at TEXT    NOT NULL
);

INSERT INTO database_identity (one, id, created_at)
VALUES (1, lower(hex(randomblob(16))), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));

CREATE TRIGGER database_identity_no_update BEFORE UPDATE ON database_identity
BEGIN
    SELECT RAISE(ABORT, 'the database identity never changes');
END;

CREATE TRIGGER database_identity_no_delete BEFORE DELETE ON database_identity
BEGIN
    SELECT RAISE(ABORT, 'the database identity never changes');
END;

CREATE TRIGGER database_identity_one_row BEFORE INSERT ON database_identity
BEGIN
    SELECT RAISE(ABORT, 'the database has one identity');
END;
