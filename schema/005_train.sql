-- 005_train: student training runs and their curves, written while training runs.

-- One row per `retort distill` invocation (a resumed run gets a new row that
-- names the checkpoint it resumed from).
CREATE TABLE train_runs (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER REFERENCES runs(id),
  mix           TEXT,                          -- mix name, or NULL when trained from a token file
  data          TEXT,                          -- token file path when trained from one
  init          TEXT NOT NULL,                 -- preset name or checkpoint directory
  out_dir       TEXT NOT NULL,
  config        TEXT NOT NULL DEFAULT '{}',    -- JSON: the model's config.json
  hparams       TEXT NOT NULL DEFAULT '{}',    -- JSON: seq_len, batch, accum, lr, schedule, seed, ...
  n_params      INTEGER NOT NULL DEFAULT 0,
  n_train       INTEGER NOT NULL DEFAULT 0,    -- training samples
  n_val         INTEGER NOT NULL DEFAULT 0,    -- validation samples
  n_rows        INTEGER NOT NULL DEFAULT 0,    -- packed rows of seq_len per epoch
  total_steps   INTEGER NOT NULL DEFAULT 0,
  resumed_from  TEXT,                          -- checkpoint directory
  status        TEXT NOT NULL DEFAULT 'running'
                CHECK (status IN ('running','ok','failed','interrupted')),
  final_loss    REAL,
  final_val_loss REAL,
  started_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  ended_at      TEXT
);

-- One row per optimizer step; val_loss only on evaluation steps.
CREATE TABLE train_log (
  train_run_id  INTEGER NOT NULL REFERENCES train_runs(id) ON DELETE CASCADE,
  step          INTEGER NOT NULL,              -- 1-based optimizer step
  epoch         REAL NOT NULL,
  loss          REAL NOT NULL,                 -- mean CE over the step's masked-in tokens
  val_loss      REAL,
  lr            REAL NOT NULL,
  grad_norm     REAL NOT NULL,                 -- before clipping
  tokens        INTEGER NOT NULL,              -- tokens processed in the step (all positions)
  target_tokens INTEGER NOT NULL,              -- masked-in tokens the loss covers
  tokens_per_s  REAL NOT NULL,
  elapsed_s     REAL NOT NULL,
  at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  PRIMARY KEY (train_run_id, step)
) WITHOUT ROWID;

CREATE VIEW v_train_curve AS
SELECT r.id AS train_run_id, r.mix, r.init, l.step, l.epoch, l.loss, l.val_loss, l.lr, l.grad_norm, l.tokens_per_s
FROM train_log l JOIN train_runs r ON r.id = l.train_run_id;
