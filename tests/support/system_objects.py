"""The system objects every stage leaves out (engine and readiness rules test against the same list)."""

SYSTEM = [
    {"dn": "CN=krbtgt,CN=Users,DC=contoso,DC=com", "sam_account_name": "krbtgt"},
    {"dn": "CN=Guest,CN=Users,DC=contoso,DC=com", "sam_account_name": "Guest"},
    {"dn": "CN=DefaultAccount,CN=Users,DC=contoso,DC=com", "sam_account_name": "DefaultAccount"},
    {"dn": "CN=HealthMailbox0f3a,CN=Monitoring,DC=contoso,DC=com", "sam_account_name": "HealthMailbox0f3a"},
    {"dn": "CN=SystemMailbox{1f05a927-0000},CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_1a2b"},
    {"dn": "CN=DiscoverySearchMailbox {D919BA05},CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_3c4d"},
    {"dn": "CN=FederatedEmail.4c1f4d8b,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_5e6f"},
    {"dn": "CN=Migration.8f3e7716,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_7a8b"},
    {"dn": "CN=SUPPORT_388945a0,CN=Users,DC=contoso,DC=com", "sam_account_name": "SUPPORT_388945a0"},
    {"dn": "CN=MSOL_0123abcd,CN=Users,DC=contoso,DC=com", "sam_account_name": "MSOL_0123abcd"},
    {"dn": "CN=WS01,OU=Computers,DC=contoso,DC=com", "sam_account_name": "WS01$"},
    {"dn": "CN=Ann\\0ACNF:2a1b3c4d,OU=Staff,DC=contoso,DC=com", "sam_account_name": "ann2"},
    {"dn": "CN=Critical,CN=Users,DC=contoso,DC=com", "sam_account_name": "crit", "is_critical_system_object": True},
    # Before the one list, these were excluded by only one of the two stages:
    {"dn": "CN=AAD_5f1e2d3c4b5a,CN=Users,DC=contoso,DC=com", "sam_account_name": "AAD_5f1e2d3c4b5a"},
    {"dn": "CN=Exchange Online-ApplicationAccount,CN=Users,DC=contoso,DC=com",
     "sam_account_name": "Exchange_Online-ApplicationAccount"},
    {"dn": "CN=SystemMailbox8cc370d3,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_9c0d"},
    {"dn": "CN=FederatedEmail,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_0e1f"},
    {"dn": "CN=SVC01$,OU=Service,DC=contoso,DC=com", "sam_account_name": None},
    {"dn": "CN=CAS_{5d2c1b0a},CN=Users,DC=contoso,DC=com", "sam_account_name": "CAS_5d2c1b0a}"},
    {"dn": "CN=Exchange Online-ApplicationAccount,CN=Users,DC=contoso,DC=com", "sam_account_name": "SM_2f3a"},
]
