"""`python -m llmkit.evals` — see llmkit.evals.cli."""

from llmkit.evals.cli import main

raise SystemExit(main())
