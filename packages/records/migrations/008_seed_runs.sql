-- Bookkeeping of the data generator, outside every system of record (CDC does not publish it):
-- a run is recorded when it starts and marked finished at the end, so a seed that was cut short
-- is recognised as such instead of passing for a complete data set.
CREATE TABLE records_meta.seed_runs (
  run_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seed text NOT NULL,
  customers integer NOT NULL CHECK (customers > 0),
  months integer NOT NULL CHECK (months > 0),
  as_of date NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
