"""The frontend stack: private bucket, CloudFront with OAC, SPA fallback, security headers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.app import App, Bucket, Site
from infra.config import load_config
from infra.render import render, template_json
from infra.stack import StackContext
from infra.stacks.frontend import FrontendStack
from tests.support.apps import config_for
from tests.templates.conftest import REPO, Template, props


@pytest.fixture(scope="module")
def frontend(templates: dict[str, Template]) -> Template:
    return templates["dev/frontend"]


def distribution_config(template: Template) -> Template:
    return props(template, "Distribution")["DistributionConfig"]


def test_bucket_is_readable_only_by_this_distribution(frontend: Template) -> None:
    statements = props(frontend, "SiteBucketPolicy")["PolicyDocument"]["Statement"]
    by_sid = {s["Sid"]: s for s in statements}
    read = by_sid["CloudFrontReadsSite"]
    assert read["Principal"] == {"Service": {"Fn::Sub": "cloudfront.${AWS::URLSuffix}"}}
    assert read["Action"] == ["s3:GetObject"]
    source = read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source[1] == {"Distribution": {"Ref": "Distribution"}}
    assert by_sid["DenyInsecureTransport"]["Effect"] == "Deny"
    assert set(by_sid) == {"CloudFrontReadsSite", "DenyInsecureTransport"}


def test_origin_uses_origin_access_control_not_a_public_bucket(frontend: Template) -> None:
    [origin] = distribution_config(frontend)["Origins"]
    assert origin["OriginAccessControlId"] == {"Ref": "SiteOriginAccessControl"}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac = props(frontend, "SiteOriginAccessControl")["OriginAccessControlConfig"]
    assert oac["SigningBehavior"] == "always"
    assert oac["OriginAccessControlOriginType"] == "s3"
    assert props(frontend, "SiteBucket")["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]


def test_distribution_redirects_to_https_over_http2_and_3(frontend: Template) -> None:
    config = distribution_config(frontend)
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["CachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": "SecurityHeadersPolicy"}
    assert config["PriceClass"] == "PriceClass_100"


def test_spa_routes_fall_back_to_index_html(frontend: Template) -> None:
    errors = distribution_config(frontend)["CustomErrorResponses"]
    assert {(e["ErrorCode"], e["ResponseCode"], e["ResponsePagePath"]) for e in errors} == {
        (403, 200, "/index.html"),
        (404, 200, "/index.html"),
    }


def test_security_headers_are_strict(frontend: Template) -> None:
    config = props(frontend, "SecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]
    headers = config["SecurityHeadersConfig"]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ContentTypeOptions"]["Override"] is True
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
    assert "default-src 'self'" in csp[0]
    assert "connect-src 'self' ${Api}" in csp[0]
    assert csp[1]["Api"] == {"Ref": "BackendApiUrl"}


def test_default_certificate_without_a_domain(frontend: Template) -> None:
    config = distribution_config(frontend)
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    assert "Aliases" not in config


def test_custom_domain_gets_alias_and_tls_1_2_certificate() -> None:
    arn = "arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000"
    config = load_config(
        REPO / "infra.toml",
        [
            'environments.prod.domain_name="photos.example.com"',
            f'environments.prod.certificate_arn="{arn}"',
            'environments.prod.price_class="PriceClass_All"',
        ],
    )
    env = config.environments["prod"]
    template = json.loads(template_json(FrontendStack(StackContext(config, env.account, env))))
    distribution = distribution_config(template)
    assert distribution["Aliases"] == ["photos.example.com"]
    assert distribution["PriceClass"] == "PriceClass_All"
    assert distribution["ViewerCertificate"] == {
        "AcmCertificateArn": arn,
        "SslSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    }
    skipped = template["Resources"]["Distribution"]["Metadata"]["SkipReasons"]
    assert "CKV_AWS_174" not in skipped


def csp_directives(template: Template) -> dict[str, list[str]]:
    config = props(template, "SecurityHeadersPolicy")["ResponseHeadersPolicyConfig"]
    text = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    return {
        name: sources for name, *sources in (part.split() for part in text["Fn::Sub"][0].split(";"))
    }


def test_images_may_come_from_the_page_only_where_the_app_says(frontend: Template) -> None:
    directives = csp_directives(frontend)
    # The upload preview is an object URL; only the media bucket serves other images.
    assert directives["img-src"] == [
        "'self'", "data:", "blob:", "https://${MediaBucket}.s3.${AWS::Region}.${AWS::URLSuffix}",
    ]  # fmt: skip
    assert "blob:" not in directives["connect-src"]
    assert directives["script-src"] == ["'self'"]


def test_a_site_without_browser_uploads_gets_no_blob_images(tmp_path: Path) -> None:
    app = App(
        buckets=(Bucket("media", browser_reads=True),),
        site=Site("web"),
    )
    [frontend] = [
        json.loads(r.path.read_text())
        for r in render(config_for(app), tmp_path)
        if r.stack == "frontend" and r.scope == "dev"
    ]
    assert csp_directives(frontend)["img-src"] == [
        "'self'", "data:", "https://${MediaBucket}.s3.${AWS::Region}.${AWS::URLSuffix}",
    ]  # fmt: skip
