"""The loyalty app's models, one module per part of the programme, re-exported here."""

from loyalty.models.earning import LineEarning
from loyalty.models.ledger import (
    TIER_POINTS_KINDS,
    EarningStatus,
    EntryKind,
    LedgerCheck,
    LedgerEntry,
    Member,
    OrderEarning,
    PointLot,
    Subject,
)
from loyalty.models.programme import DebtPolicy, Programme, Reward, RewardKind, Tier, TierBasis
from loyalty.models.referrals import Referral, ReferralStatus
from loyalty.models.rewards import Redemption, RedemptionSource, RedemptionStatus
from loyalty.models.tiers import TierChange, TierChangeReason

__all__ = [
    "TIER_POINTS_KINDS",
    "DebtPolicy",
    "EarningStatus",
    "EntryKind",
    "LedgerCheck",
    "LedgerEntry",
    "LineEarning",
    "Member",
    "OrderEarning",
    "PointLot",
    "Programme",
    "Redemption",
    "RedemptionSource",
    "RedemptionStatus",
    "Referral",
    "ReferralStatus",
    "Reward",
    "RewardKind",
    "Subject",
    "Tier",
    "TierBasis",
    "TierChange",
    "TierChangeReason",
]
