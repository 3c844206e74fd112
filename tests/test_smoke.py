"""The login page speaks Russian and a federal user sees the 13 regions."""


def test_login_page_is_russian(client, tenants):
    response = client.get("/login")
    assert response.status_code == 200
    assert "Вход" in response.get_data(as_text=True)


def test_federal_user_sees_all_regions(client, make_user, login):
    login(make_user("federal_analyst"))
    page = client.get("/federal/").get_data(as_text=True)
    assert page.count("/r/RU-") == 13
