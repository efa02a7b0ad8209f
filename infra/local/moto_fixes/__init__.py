"""The local AWS: moto's server with fixes for the gaps in it that the app's stacks reach.

Run as `python -m infra.local.moto_fixes -H 127.0.0.1 -p PORT` (`infra.local.aws_server`
starts it for `infra local up` and for the tests). Each fix is pinned by a test in
tests/deploy/test_moto_gaps.py that runs plain moto: when that test fails, moto has closed
the gap and the fix can go.

Each fix is one function in the module of the service it patches (`cloudformation`,
`cognito`, `event_sources`, `kms`, `s3`, `ssm`); FIXES lists them in the order `main`
applies them.
"""

from __future__ import annotations

from infra.local.moto_fixes.cloudformation import (
    give_accepted_resources_an_id,
    keep_one_stack_under_review,
    leave_unchanged_change_sets_to_fail,
    refresh_outputs_after_change_sets,
    report_parameters_as_aws_does,
    resolve_ssm_parameters_when_planning,
    serve_change_set_templates,
)
from infra.local.moto_fixes.cognito import (
    create_cognito_resources,
    deliver_confirmation_codes,
    enforce_explicit_auth_flows,
    put_user_attributes_in_id_tokens,
    revoke_refresh_tokens,
    route_unsigned_global_sign_outs,
    verify_srp_password_claims,
)
from infra.local.moto_fixes.event_sources import leave_event_sources_to_the_local_runtime
from infra.local.moto_fixes.kms import accept_kms_key_tags
from infra.local.moto_fixes.s3 import enforce_post_policies, give_s3_event_records_a_sequencer
from infra.local.moto_fixes.ssm import accept_ssm_parameter_tag_maps

FIXES = (
    serve_change_set_templates,
    accept_ssm_parameter_tag_maps,
    accept_kms_key_tags,
    give_accepted_resources_an_id,
    create_cognito_resources,  # after the accepted-resources fix: consulted before it
    refresh_outputs_after_change_sets,
    resolve_ssm_parameters_when_planning,
    report_parameters_as_aws_does,
    leave_unchanged_change_sets_to_fail,
    keep_one_stack_under_review,
    enforce_post_policies,
    deliver_confirmation_codes,
    route_unsigned_global_sign_outs,
    revoke_refresh_tokens,
    put_user_attributes_in_id_tokens,
    verify_srp_password_claims,
    enforce_explicit_auth_flows,  # after the SRP fix: refuses a flow before SRP starts
    leave_event_sources_to_the_local_runtime,
    give_s3_event_records_a_sequencer,
)


def main(argv: list[str]) -> None:
    from moto.server import main as serve

    for fix in FIXES:
        fix()
    serve(argv)
