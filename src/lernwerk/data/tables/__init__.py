"""Tables: reading CSV and Parquet files (`reader`), how a text cell is read (`cells`), and
the encoding of columns as features and of the target (`encoding`), kept with a model."""
