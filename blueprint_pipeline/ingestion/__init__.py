"""Reading landing files into raw tables: file matching, header mapping, the file ledger."""
