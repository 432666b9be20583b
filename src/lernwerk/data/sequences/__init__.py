"""Sequences: series in memory and their length policy (`series`), CSV files of series
(`csv_reader`), the UCR/UEA `.ts` format (`ts_format`), forecast windows (`forecasting`)
and the small UCR sets lernwerk ships (`ucr`)."""
