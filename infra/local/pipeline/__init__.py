"""`infra local pipeline`: the rendered pipeline run stage by stage against the local AWS.

Source is a git commit; CodeBuild actions run their buildspecs on this machine; the
CloudFormation actions make the API calls CodePipeline makes; approvals stop the run
until a person approves. Every value comes from the deployed pipeline stack.
"""
