-- 003_mix: immutable, ordered SFT mixes.

CREATE TABLE mixes (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL UNIQUE,
  filter_id   INTEGER REFERENCES filters(id),
  spec        TEXT NOT NULL DEFAULT '{}',    -- JSON of the options that built it
  report      TEXT NOT NULL DEFAULT '{}',    -- JSON: quotas met, decontamination counts and examples
  n_train     INTEGER NOT NULL DEFAULT 0,
  n_val       INTEGER NOT NULL DEFAULT 0,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  run_id      INTEGER REFERENCES runs(id)
);

CREATE TABLE mix_items (
  mix_id    INTEGER NOT NULL REFERENCES mixes(id) ON DELETE CASCADE,
  position  INTEGER NOT NULL,                -- 0-based order within the mix (shuffled, seeded)
  trace_id  INTEGER NOT NULL REFERENCES traces(id),
  split     TEXT NOT NULL CHECK (split IN ('train','val')),
  PRIMARY KEY (mix_id, position)
) WITHOUT ROWID;
CREATE INDEX mix_items_trace ON mix_items(trace_id);

-- What a mix item looks like as a chat sample: the user turn is the problem
-- rendered through its teacher's template, the assistant turn is the trace.
-- A trace sampled with a prefilled '<think>\n' gets it back here, so every
-- consumer sees the complete assistant output.
CREATE VIEW v_mix_samples AS
SELECT m.name AS mix, mi.position, mi.split, mi.trace_id, t.problem_id,
       replace(tc.template_text, '{prompt}', p.prompt) AS user_text,
       CASE WHEN t.think_prefilled THEN '<think>' || char(10) || t.text ELSE t.text END AS assistant_text,
       p.family, p.lang, p.reasoning
FROM mix_items mi
JOIN mixes m ON m.id = mi.mix_id
JOIN traces t ON t.id = mi.trace_id
JOIN teachers tc ON tc.id = t.teacher_id
JOIN problems p ON p.id = t.problem_id;
