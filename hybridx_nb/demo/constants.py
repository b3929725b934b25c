"""The demo tenant's fixed facts: its domains, ids, roles, licences, tenant flags and the names people get."""

from __future__ import annotations

DOMAIN = "contoso.com"                 # federated with Okta


INITIAL_DOMAIN = "contoso.onmicrosoft.com"


MANAGED_DOMAIN = "fabrikam.com"        # acquired company, managed


BASE_DN = "DC=contoso,DC=com"


TENANT_ID = "4f1c2b7e-8d3a-4e59-9b1f-2c6d8e0a7b35"


OKTA_APP_ID = "0oa1b2c3d4E5f6G7h8i9"


ROLES = {"Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
         "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de"}


SKUS = {"ENTERPRISEPACK": "6fd2c87f-b296-42f0-b197-1e91e994b900",   # Office 365 E3
        "STANDARDPACK": "18181a46-0d4e-45cd-891e-60aabd171b4e",     # Office 365 E1
        "EXCHANGESTANDARD": "4b9405b0-7788-4568-add1-99614e613b69"}


FEATURES = {"softMatchOnUpnEnabled": True, "blockSoftMatchEnabled": False,
            "blockCloudObjectTakeoverThroughHardMatchEnabled": False}


ANCHOR_SETTING = "objectGUID"


ANCHOR_REASON = ("auto: mS-DS-ConsistencyGuid is already set on some users (one holds the ASCII text of a GUID), "
                 "so Entra Connect keeps objectGUID as the source anchor")


FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
         "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Donald "
         "Ashley Steven Emily Paul Donna Andrew Michelle Joshua Carol Kenneth Amanda Kevin Melissa Brian Deborah "
         "George Stephanie Timothy Rebecca Ronald Laura Jason Helen Edward Sharon Jeffrey Cynthia Ryan Kathleen "
         "Jacob Amy Gary Angela Nicholas Anna Eric Ruth Jonathan Brenda Stephen Pamela Larry Nicole Justin Katherine "
         "Scott Samantha Brandon Christine Benjamin Emma Samuel Olivia Raymond Sophie Lukas Hannah Felix Lea Jonas "
         "Mia Noah Chloe Mateo Sofia Arjun Priya Wei Mei Hiroshi Yuki Kwame Amara Omar Layla Ivan Olga Pierre Camille "
         "Luca Giulia Sven Ingrid Diego Lucia Rafael Ana Tariq Fatima").split()


LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson "
        "Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis "
        "Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall "
        "Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes "
        "Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard "
        "Ramos Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price "
        "Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Schmidt Schneider Fischer Weber Meyer Wagner "
        "Becker Hoffmann Schulz Koch Richter Klein Wolf Neumann Dubois Laurent Moreau Rossi Russo Ferrari Esposito "
        "Bianchi Romano Colombo Jansen Devries Bakker Visser Larsen Hansen Nielsen Andersen Nakamura Tanaka Suzuki "
        "Watanabe Chen Wang Zhang Liu Singh Kumar Sharma Okafor Mensah Haddad Khan Ivanov Petrov Novak Kowalski"
        ).split()


DEPARTMENTS = ("Sales", "Marketing", "Finance", "Engineering", "Operations", "HR", "Legal", "Support")


SHARES = {"soft_match": 0.03, "new_user": 0.04, "orphan_anchor": 0.02, "cloud_only": 0.015}  # of `users`
