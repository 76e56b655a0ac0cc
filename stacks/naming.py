"""Deterministic physical names derived from the config.

Stacks in different accounts find each other's resources by these names, never by lookups:
the management account's trail writes to the bucket the log-archive stack created under the
same name.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacks.config import AccountRole, BaselineConfig


@dataclass(frozen=True)
class Names:
    config: BaselineConfig

    @property
    def prefix(self) -> str:
        return self.config.naming.prefix

    @property
    def home_region(self) -> str:
        return self.config.home_region

    @property
    def archive_account(self) -> str:
        """Account that holds the central log buckets (the only account in single-account mode)."""
        if self.config.single_account:
            return self.config.accounts[0].id
        return self.config.account_with_role(AccountRole.LOG_ARCHIVE).id

    @property
    def trail_name(self) -> str:
        return self.config.cloudtrail.trail_name

    @property
    def cloudtrail_bucket(self) -> str:
        return f"{self.prefix}-cloudtrail-{self.archive_account}-{self.home_region}"

    @property
    def access_logs_bucket(self) -> str:
        return f"{self.prefix}-access-logs-{self.archive_account}-{self.home_region}"

    @property
    def log_archive_key_alias(self) -> str:
        return f"alias/{self.prefix}/log-archive"

    def log_archive_key_alias_arn(self, partition: str) -> str:
        return f"arn:{partition}:kms:{self.home_region}:{self.archive_account}:{self.log_archive_key_alias}"

    @property
    def baseline_tag(self) -> tuple[str, str]:
        """The tag on the baseline's AWS Config rules in member accounts, which the SCPs protect."""
        return ("monitoring-baseline", self.prefix)

    def stack_name(self, kind: str) -> str:
        """``<prefix>-<kind>``; the kinds are the role table's (``stacks.roles``)."""
        return f"{self.prefix}-{kind}"

    # --- AWS Config ---

    @property
    def config_bucket(self) -> str:
        """Bucket AWS Config of every account and region delivers to (log archive, or the single account)."""
        return f"{self.prefix}-config-{self.archive_account}-{self.home_region}"

    @property
    def config_key_alias(self) -> str:
        """Alias of the key the Config bucket is encrypted with."""
        if self.config.single_account:
            return f"alias/{self.prefix}/config"
        return self.log_archive_key_alias
