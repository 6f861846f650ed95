"""The scenario harness itself, on the sample process."""

from tests.scenarios.harness import Scenario


def test_harness_walks_the_sample_process(lf):
    case = Scenario(lf, "sample_review", "330702101201")
    case.complete(
        "submit_application",
        {"parcel_area": 1, "use": "工业", "reviewers": ["发改局"]},
        by="applicant@village",
    )
    assert case.open_names() == ["joint_review", "pay"]
    case.complete("pay", {"amount": 3}, by="cz@county")
    case.complete("joint_review", {"opinion": "同意"}, by="fgw@county")
    case.complete("decide", {"approved": True}, by="zrzy@county")
    case.message("contract_signed", {"n": 1})
    assert case.status == "completed"
