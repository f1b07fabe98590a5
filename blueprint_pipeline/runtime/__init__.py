"""The drivers: what starts, measures and compares builds from outside the asset graph (the CLI,
`blueprint run`, the bench, the fork server's preload). Nothing below imports them."""
