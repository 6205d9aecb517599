"""When things happen in a generated tendering transaction, in days after the batch's base
date: in the order and with the spacing the law asks (docs/supervision.md), so a clean batch
breaks no statutory timeline and a planted violation is the only finding.

    announcement and documents on sale (day 3) → sale ends (day 10: 7 days ≥ 5) → bid
    deadline and opening (day 27: 24 days after the documents ≥ 20) → evaluation ends (28) →
    candidates publicised (29 to 33: within 3 days of the report, for 4 days ≥ 3) → award
    announced (34) → contract signed (45: 11 days ≤ 30)
"""

from __future__ import annotations

# (data set, field) → day
EVENTS: dict[tuple[str, str], int] = {
    ("TENDER_ANN_QUA_INQUERY_ANN", "NOTICE_SEND_TIME"): 3,
    ("TENDER_ANN_QUA_INQUERY_ANN", "DOC_GET_START_TIME"): 3,
    ("TENDER_ANN_QUA_INQUERY_ANN", "DOC_GET_END_TIME"): 10,
    ("TENDER_ANN_QUA_INQUERY_ANN", "BID_DOC_REFER_END_TIME"): 27,
    ("TENDER_ANN_QUA_INQUERY_ANN", "BID_OPEN_TIME"): 27,
    ("TENDER_INVITATION", "BID_INVITE_ISSUE_TIME"): 4,
    ("TENDER_INVITATION", "DOC_GET_START_TIME"): 4,
    ("TENDER_INVITATION", "DOC_GET_END_TIME"): 11,
    ("TENDER_INVITATION", "BID_INVITE_END_TIME"): 11,
    ("TENDER_INVITATION", "BID_DOC_REFER_END_TIME"): 27,
    ("TENDER_FILE_CLARI_MODI", "SUBMIT_TIME"): 6,
    ("TENDER_FILE_CLARI_MODI", "CLARIFY_TIME"): 6,
    ("TENDER_FILE_CLARI_MODI", "BID_DOC_REFER_END_TIME"): 27,
    ("TENDER_FILE_CLARI_MODI", "BID_OPEN_TIME"): 27,
    ("TENDER_FILE_CLARI_MODI", "POST_OPEN_TIME"): 27,
    ("TENDER_LIST", "MARGIN_RECEIVE_TIME"): 25,
    ("TENDER_LIST", "CHECKIN_TIME"): 26,
    ("BID_DOC_CHARACT_CODE", "TENDER_DOC_SUBMITTIME"): 26,
    ("BID_OPENING_RECORD", "BID_OPENING_TIME"): 27,
    ("EVALUATION_REPORT", "END_TIME"): 28,
    ("TENDER_CANDIDATE_ANNOUNCE", "PUBLICITY_REFER_TIME"): 29,
    ("TENDER_CANDIDATE_ANNOUNCE", "PUBLICITY_START_TIME"): 29,
    ("TENDER_CANDIDATE_ANNOUNCE", "PUBLICITY_END_TIME"): 33,
    ("WIN_RESULT_ANNO", "NOTICE_SEND_TIME"): 34,
    ("CONTRACT_PERFORMANCE", "CONTRACT_SIGN_TIME"): 45,
    ("CONTRACT_PERFORMANCE", "SUBMIT_TIME"): 46,
    # government procurement: announced (1), corrected (2), bids due and opened (25),
    # result (30), contract (40)
    ("PURCHASE_QUALI_INQUERY_ANN", "BULLETIN_START_TIME"): 1,
    ("PURCHASE_QUALI_INQUERY_ANN", "BID_CLOSING_TIME"): 25,
    ("CORRECTION_ITEM", "MODIFICATION_START_TIME"): 2,
    ("CORRECTION_ITEM", "POST_BID_CLOSING_TIME"): 25,
    ("PURCHASE_BIDDING_RECORD", "BID_OPENING_TIME"): 25,
    ("BID_DEAL_ANNOUNCE", "WIN_BID_BULLETIN_START_TIME"): 30,
    ("PURCHASE_CONTRACT", "SIGNING_TIME"): 40,
    # a complaint: lodged (30), accepted the next day (31), decided two weeks later (45)
    ("COMPLAINT_INFO", "COMPLAINT_DATE"): 30,
    ("COMPLAINT_INFO", "ACCEPT_DATE"): 31,
    ("COMPLAINT_INFO", "HANDLE_DATE"): 45,
}

# the day a record is published (its DATA_TIMESTAMP): not before what it reports has happened
PUBLISHED: dict[str, int] = {
    "TENDER_LIST": 26,
    "BID_DOC_CHARACT_CODE": 26,
    "BID_OPENING_RECORD": 27,
    "EVALUATION_REPORT": 28,
    "TENDER_EVALUATION": 28,
    "TENDER_CANDIDATE": 28,
    "TENDER_CANDIDATE_ANNOUNCE": 29,
    "WIN_RESULT_ANNO": 34,
    "CONTRACT_PERFORMANCE": 46,
    "PERFORMANCE": 60,
    "PURCHASE_BIDDING_RECORD": 25,
    "PURCHASE_TENDER_LIST": 25,
    "BID_DEAL_ANNOUNCE": 30,
    "PURCHASE_CONTRACT": 40,
    "COMPLAINT_INFO": 45,
}
