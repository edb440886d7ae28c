-- 004_tokens: token counts from `retort tokenize`, per tokenizer and template,
-- so length filters and quotas can count tokens with a SQL query.

CREATE TABLE token_counts (
  trace_id   INTEGER NOT NULL REFERENCES traces(id),
  tokenizer  TEXT NOT NULL,      -- hex SHA-256/128 of the tokenizer.json bytes
  template   TEXT NOT NULL,      -- chat template: 'r1', 'chatml', 'llama3'
  n_tokens   INTEGER NOT NULL,   -- the whole rendered sample (prompt, answer, special tokens)
  n_target   INTEGER NOT NULL,   -- loss-masked tokens: the assistant's, its end token included
  PRIMARY KEY (trace_id, tokenizer, template)
) WITHOUT ROWID;
-- traces.n_tokens (from 001) is set to n_target - 1, the completion's length
-- without the end token, by the latest tokenize run.
