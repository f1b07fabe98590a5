"""The foundation every layer may import: errors, paths, names, the run's facts, fault points,
redaction, atomic files, CSV safety, history checks. It imports nothing else of the project."""
