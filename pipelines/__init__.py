"""The pipeline stack: CodePipeline V2 and CodeBuild that take every push to every environment.

`pipelines.stack.PipelineStack` is an account stack like the base stack; `infra.layout`
puts it after base, in the account `[pipeline]` in infra.toml names.
"""
