-- 0007_epoch_value.sql: an exec trial's objective at every epoch.
--
--   trial_epochs.value   the objective of an exec trial at that epoch (the
--                        "value" of its progress line, or of its result's
--                        curve_values), any range; NULL for the built-in
--                        trainer, whose objective per epoch is val_acc, and
--                        where the command did not give it
--
-- With it a restarted coordinator rebuilds an exec campaign's pruner from
-- the completed trials' curves, and values a pruned exec point by its last
-- reported objective, as the coordinator that ran them did. Epochs stored
-- before this version have no value.

ALTER TABLE trial_epochs ADD COLUMN value REAL;
