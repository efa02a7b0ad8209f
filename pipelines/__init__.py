"""The pipeline stack: CodePipeline V2 and CodeBuild that take every push to every environment.

`PipelineStack` is an account stack like the base stack; `infra.stacks` lists it
after base, and it is rendered only where `[pipeline]` in infra.toml puts it.
"""

from __future__ import annotations

from pipelines.stack import PipelineStack

__all__ = ["PipelineStack"]
