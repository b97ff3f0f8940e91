"""The chips' tones of the loyalty statuses the dashboard shows (`postpurchase.status_tones`)."""

from loyalty.models import RedemptionStatus, ReferralStatus

REDEMPTION_STATUS_TONES: dict[str, str] = {
    RedemptionStatus.RESERVED: "info",
    RedemptionStatus.ISSUED: "success",
    RedemptionStatus.FAILED: "critical",
    RedemptionStatus.USED: "neutral",
    RedemptionStatus.EXPIRED: "neutral",
}
REFERRAL_STATUS_TONES: dict[str, str] = {
    ReferralStatus.INVITED: "info",
    ReferralStatus.ORDERED: "info",
    ReferralStatus.REWARDED: "success",
    ReferralStatus.REFUSED: "critical",
    ReferralStatus.FLAGGED: "attention",
}
