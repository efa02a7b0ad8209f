"""The environment's frontend: a private bucket served only through CloudFront.

CloudFront reads the bucket through origin access control (no public bucket,
no legacy OAI), redirects to HTTPS, answers SPA routes with index.html and
adds security headers to every response.
"""

from __future__ import annotations

from typing import Any

from awacs import s3 as s3_actions
from awacs.aws import Allow, Condition, Statement, StringEquals
from troposphere import GetAtt, Ref, Sub
from troposphere.cloudfront import (
    ContentSecurityPolicy,
    ContentTypeOptions,
    CustomErrorResponse,
    DefaultCacheBehavior,
    Distribution,
    DistributionConfig,
    FrameOptions,
    Origin,
    OriginAccessControl,
    OriginAccessControlConfig,
    ReferrerPolicy,
    ResponseHeadersPolicy,
    ResponseHeadersPolicyConfig,
    S3OriginConfig,
    SecurityHeadersConfig,
    StrictTransportSecurity,
    ViewerCertificate,
)
from troposphere.s3 import Bucket, BucketPolicy

from infra.app import HTTP_API_URL
from infra.blocks.bucket import private_bucket, tls_only_policy
from infra.blocks.policy import objects, service_principal
from infra.stack import Stack, resource, skip_checks

# AWS-managed "CachingOptimized" cache policy: the same id in every account.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
SITE_ORIGIN_ID = "site"
HSTS_SECONDS = 63072000  # two years, as hstspreload.org asks


class FrontendStack(Stack):
    name = "frontend"
    description = "private site bucket behind CloudFront"

    @resource
    def site_bucket(self) -> Bucket:
        logs = self.consume("base", "AccessLogsBucketName", "S3 access-log target bucket")
        bucket = private_bucket("SiteBucket", access_logs=(Ref(logs), f"{self.scope}/site/"))
        self.share("SiteBucketName", Ref(bucket), "Bucket the web app's files are synced to")
        return bucket

    @resource
    def origin_access_control(self) -> OriginAccessControl:
        return OriginAccessControl(
            "SiteOriginAccessControl",
            OriginAccessControlConfig=OriginAccessControlConfig(
                Name=self.physical_name("site"),
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )

    @resource
    def site_bucket_policy(self) -> BucketPolicy:
        """Only this distribution may read the site's files."""
        distribution_arn = Sub(
            "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}",
            Distribution=Ref(self.distribution),
        )
        read = Statement(
            Sid="CloudFrontReadsSite",
            Effect=Allow,
            Principal=service_principal("cloudfront"),
            Action=[s3_actions.GetObject],
            Resource=[objects(self.site_bucket)],
            Condition=Condition(StringEquals("AWS:SourceArn", distribution_arn)),
        )
        return tls_only_policy("SiteBucketPolicy", self.site_bucket, read)

    def content_security_policy(self) -> Sub:
        """The page may reach what the app declares: its API, Cognito and its browser buckets.

        `connect-src` gets the HTTP API, the user pool's Cognito endpoint and every bucket
        browsers upload to or read from; `img-src` the buckets browsers read from, and
        `blob:` when browsers upload (a page previews the file it is about to send from an
        object URL; only the page's own scripts can make one).
        """
        app = self.declaration
        s3 = "s3.${AWS::Region}.${AWS::URLSuffix}"
        values: dict[str, Any] = {}
        img_sources, connect = ["'self'", "data:"], ["'self'"]
        if app.has_http_api:
            values["Api"] = Ref(self.read(HTTP_API_URL))
            connect.append("${Api}")
        if app.user_pool is not None:
            connect.append("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}")
        for bucket in app.buckets:
            if not (bucket.browser_upload or bucket.browser_reads):
                continue
            values[bucket.logical_id] = Ref(self.read(bucket.bucket_name))
            origin = f"https://${{{bucket.logical_id}}}.{s3}"
            if bucket.browser_reads:
                img_sources.append(origin)
            if bucket.browser_upload and "blob:" not in img_sources:
                img_sources.insert(2, "blob:")
            connect.append(origin)
        return Sub(
            "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
            "base-uri 'self'; frame-ancestors 'none'; form-action 'self'; "
            f"img-src {' '.join(img_sources)}; connect-src {' '.join(connect)}",
            **values,
        )

    @resource
    def security_headers(self) -> ResponseHeadersPolicy:
        return ResponseHeadersPolicy(
            "SecurityHeadersPolicy",
            ResponseHeadersPolicyConfig=ResponseHeadersPolicyConfig(
                Name=self.physical_name("security-headers", limit=128),
                SecurityHeadersConfig=SecurityHeadersConfig(
                    StrictTransportSecurity=StrictTransportSecurity(
                        AccessControlMaxAgeSec=HSTS_SECONDS,
                        IncludeSubdomains=True,
                        Preload=True,
                        Override=True,
                    ),
                    ContentTypeOptions=ContentTypeOptions(Override=True),
                    FrameOptions=FrameOptions(FrameOption="DENY", Override=True),
                    ReferrerPolicy=ReferrerPolicy(
                        ReferrerPolicy="strict-origin-when-cross-origin", Override=True
                    ),
                    ContentSecurityPolicy=ContentSecurityPolicy(
                        ContentSecurityPolicy=self.content_security_policy(), Override=True
                    ),
                ),
            ),
        )

    def viewer_certificate(self) -> ViewerCertificate:
        environment = self.environment
        if environment.certificate_arn:
            return ViewerCertificate(
                AcmCertificateArn=environment.certificate_arn,
                SslSupportMethod="sni-only",
                MinimumProtocolVersion="TLSv1.2_2021",
            )
        return ViewerCertificate(CloudFrontDefaultCertificate=True)

    @resource
    def distribution(self) -> Distribution:
        environment = self.environment
        spa_fallback = [
            CustomErrorResponse(
                ErrorCode=code,
                ResponseCode=200,
                ResponsePagePath="/index.html",
                ErrorCachingMinTTL=10,
            )
            for code in (403, 404)
        ]
        config = DistributionConfig(
            Comment=f"{self.app} {self.scope} web app",
            Enabled=True,
            DefaultRootObject="index.html",
            HttpVersion="http2and3",
            IPV6Enabled=True,
            PriceClass=environment.price_class,
            Origins=[
                Origin(
                    Id=SITE_ORIGIN_ID,
                    DomainName=GetAtt(self.site_bucket, "RegionalDomainName"),
                    OriginAccessControlId=Ref(self.origin_access_control),
                    S3OriginConfig=S3OriginConfig(OriginAccessIdentity=""),
                )
            ],
            DefaultCacheBehavior=DefaultCacheBehavior(
                TargetOriginId=SITE_ORIGIN_ID,
                ViewerProtocolPolicy="redirect-to-https",
                CachePolicyId=CACHING_OPTIMIZED_POLICY_ID,
                ResponseHeadersPolicyId=Ref(self.security_headers),
                AllowedMethods=["GET", "HEAD", "OPTIONS"],
                CachedMethods=["GET", "HEAD"],
                Compress=True,
            ),
            CustomErrorResponses=spa_fallback,
            ViewerCertificate=self.viewer_certificate(),
        )
        if environment.domain_name:
            config.Aliases = [environment.domain_name]
        distribution = Distribution("Distribution", DistributionConfig=config)
        self.share("DistributionId", Ref(distribution), "CloudFront distribution id")
        self.share(
            "SiteUrl",
            Sub("https://${Domain}", Domain=GetAtt(distribution, "DomainName")),
            "Where the web app is served",
        )
        skips = {
            "CKV_AWS_68": "A WAF web ACL costs a fixed monthly fee; attach one per environment "
            "when the app has traffic worth filtering.",
            "CKV_AWS_86": "Standard logging needs an ACL-enabled bucket; every bucket here "
            "enforces owner-only access. Use CloudFront metrics and the API's access logs.",
            "CKV_AWS_310": "One origin: the site bucket. There is nothing to fail over to.",
        }
        if not environment.certificate_arn:
            skips["CKV_AWS_174"] = (
                "The default *.cloudfront.net certificate has no protocol setting; "
                "set domain_name and certificate_arn to enforce TLSv1.2_2021."
            )
        return skip_checks(distribution, skips)
