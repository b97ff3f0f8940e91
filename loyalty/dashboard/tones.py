"""The chips' tones of the loyalty statuses the dashboard shows (`postpurchase.status_tones`)."""

from loyalty.models import RedemptionStatus
from loyalty.models.referrals import REFERRAL_STATUS_TONES

REDEMPTION_STATUS_TONES: dict[str, str] = {
    RedemptionStatus.RESERVED: "info",
    RedemptionStatus.ISSUED: "success",
    RedemptionStatus.FAILED: "critical",
    RedemptionStatus.USED: "neutral",
    RedemptionStatus.EXPIRED: "neutral",
}

__all__ = ["REDEMPTION_STATUS_TONES", "REFERRAL_STATUS_TONES"]
