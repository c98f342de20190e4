"""French labels of the deposit fields, shared by the form's error summary and the receipts."""

from portail.core.tiers import TIERS_FIELDS

FIELD_LABELS = {
    "siret": "Numéro SIRET",
    "raison_sociale": "Raison sociale ou nom",
    "sigle": "Sigle",
    "enseigne": "Enseigne",
    "forme_juridique": "Forme juridique",
    "code_naf": "Code d'activité (NAF/APE)",
    "libelle_naf": "Libellé de l'activité",
    "tranche_effectif": "Tranche d'effectif salarié",
    "date_creation": "Date de création",
    "siege_social": "Siège social",
    "siret_siege": "SIRET du siège social",
    "etat_administratif": "État administratif",
    "adresse_numero": "Numéro",
    "adresse_voie": "Voie",
    "adresse_complement": "Complément d'adresse",
    "code_postal": "Code postal",
    "commune": "Commune",
    "pays": "Pays",
    "rna": "Numéro RNA",
    "objet_association": "Objet de l'association",
    "representant_nom": "Nom",
    "representant_prenom": "Prénom",
    "representant_qualite": "Qualité",
    "email": "Adresse électronique",
    "telephone": "Téléphone",
    "intitule_projet": "Intitulé du projet",
    "description_projet": "Description du projet",
    "montant_demande": "Montant demandé",
    "consentement": "Utilisation des données",
}


TIERS_SECTION = TIERS_FIELDS  # the form's tiers block, in its display order


APPLICANT_SECTION = (
    "representant_nom", "representant_prenom", "representant_qualite", "email", "telephone",
)  # fmt: skip


PROJECT_SECTION = ("intitule_projet", "description_projet", "montant_demande")
