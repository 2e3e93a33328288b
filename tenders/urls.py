"""Tender pages: the public list and tender pages, the street office's workspace, the
organization's bids and their receipts, the award, results and challenges."""

from django.urls import path

from tenders import urls_contracts, urls_delivery, views

app_name = "tenders"

urlpatterns = [
    # Public
    path("tenders/", views.tender_list, name="list"),
    path("tenders/<int:pk>/", views.tender_detail, name="detail"),
    path("tenders/<int:pk>/follow/", views.tender_follow, name="follow"),
    path("tenders/<int:pk>/questions/", views.question_ask, name="question_ask"),
    path("tenders/documents/<int:pk>/", views.tender_document_download, name="document"),
    # The street office
    path("tenders/workspace/", views.workspace, name="workspace"),
    path("tenders/new/", views.tender_create, name="create"),
    path("tenders/<int:pk>/edit/", views.tender_edit, name="edit"),
    path("tenders/<int:pk>/documents/", views.tender_documents, name="documents"),
    path(
        "tenders/documents/<int:pk>/remove/",
        views.tender_document_remove,
        name="document_remove",
    ),
    path("tenders/<int:pk>/publish/", views.tender_publish, name="publish"),
    path("tenders/<int:pk>/return/", views.tender_return, name="return"),
    path("tenders/<int:pk>/amend/", views.tender_amend, name="amend"),
    path("tenders/<int:pk>/cancel/", views.tender_cancel, name="cancel"),
    path("tenders/<int:pk>/open/", views.tender_open, name="open"),
    path("tenders/<int:pk>/review/", views.bid_review_list, name="review"),
    path("tenders/questions/<int:pk>/answer/", views.question_answer, name="question_answer"),
    path("tenders/bids/<uuid:bid_pk>/review/", views.bid_review, name="bid_review"),
    # The organization's bids
    path("tenders/my-bids/", views.my_bids, name="my_bids"),
    path("tenders/<int:pk>/bid/", views.bid_edit, name="bid"),
    path("tenders/bids/<uuid:bid_pk>/submit/", views.bid_submit, name="bid_submit"),
    path("tenders/bids/<uuid:bid_pk>/withdraw/", views.bid_withdraw, name="bid_withdraw"),
    path("tenders/bids/<uuid:bid_pk>/reopen/", views.bid_reopen, name="bid_reopen"),
    path("tenders/bids/<uuid:bid_pk>/confirm/", views.bid_confirm, name="bid_confirm"),
    path("tenders/bids/<uuid:bid_pk>/documents/", views.bid_document_add, name="bid_document_add"),
    path("tenders/bid-documents/<uuid:pk>/", views.bid_document_download, name="bid_document"),
    path(
        "tenders/bid-documents/<uuid:pk>/remove/",
        views.bid_document_remove,
        name="bid_document_remove",
    ),
    path("tenders/bids/<uuid:bid_pk>/receipts/", views.receipt_list, name="receipts"),
    path(
        "tenders/bids/<uuid:bid_pk>/receipts/<uuid:receipt_pk>/",
        views.receipt_detail,
        name="receipt",
    ),
    # Award and challenges
    path("tenders/<int:pk>/award/", views.award, name="award"),
    path("tenders/<int:pk>/result/", views.bid_result, name="result"),
    path("tenders/<int:pk>/challenges/new/", views.challenge_file, name="challenge_file"),
    path("tenders/challenges/", views.challenge_list, name="challenges"),
    path("tenders/challenges/<int:pk>/", views.challenge_detail, name="challenge"),
    path("tenders/challenges/<int:pk>/answer/", views.challenge_answer, name="challenge_answer"),
    path("tenders/challenges/<int:pk>/decide/", views.challenge_decide, name="challenge_decide"),
    path("tenders/challenges/<int:pk>/close/", views.challenge_close, name="challenge_close"),
    path(
        "tenders/challenge-documents/<int:pk>/",
        views.challenge_document_download,
        name="challenge_document",
    ),
]
urlpatterns += urls_contracts.urlpatterns + urls_delivery.urlpatterns
