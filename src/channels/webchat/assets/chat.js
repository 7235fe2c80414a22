// Starts the official Web Chat against this server's Direct Line (same origin, no Azure).
(function () {
  'use strict';

  var STORAGE_KEY = 'tuiding.directline.token';
  var root = document.getElementById('webchat');
  var errorBox = document.getElementById('chat-error');
  // The server fills in the page's locale and texts (locales/*.json, webchat.*); the font follows chat.css.
  var locale = document.documentElement.lang || 'zh-CN';

  var styleOptions = {
    accent: '#0066cc',
    backgroundColor: '#f7f9fc',
    primaryFont: window.getComputedStyle(document.documentElement).fontFamily,
    botAvatarInitials: root.getAttribute('data-bot-initials'),
    botAvatarBackgroundColor: '#0066cc',
    userAvatarInitials: root.getAttribute('data-user-initials'),
    userAvatarBackgroundColor: '#8fa3b8',
    bubbleBackground: '#ffffff',
    bubbleBorderColor: '#dbe3ec',
    bubbleBorderRadius: 12,
    bubbleTextColor: '#1f2933',
    bubbleFromUserBackground: '#0066cc',
    bubbleFromUserBorderColor: '#0066cc',
    bubbleFromUserBorderRadius: 12,
    bubbleFromUserTextColor: '#ffffff',
    suggestedActionLayout: 'flow',
    suggestedActionBackgroundColor: '#ffffff',
    suggestedActionBorderColor: '#0066cc',
    suggestedActionBorderRadius: 16,
    suggestedActionTextColor: '#0066cc',
    sendBoxButtonColor: '#0066cc',
    sendBoxTextWrap: true,
    hideUploadButton: true
  };

  function showError() {
    root.setAttribute('data-connection-status', 'error');
    errorBox.hidden = false;
  }

  function getToken() {
    var saved = null;
    try { saved = window.sessionStorage.getItem(STORAGE_KEY); } catch (e) { /* storage disabled */ }
    var headers = saved ? { Authorization: 'Bearer ' + saved } : {};
    return fetch('/webchat/token', { method: 'POST', headers: headers }).then(function (res) {
      if (!res.ok) throw new Error('token request failed: ' + res.status);
      return res.json();
    });
  }

  getToken().then(function (session) {
    var directLine = window.WebChat.createDirectLine({
      domain: window.location.origin + '/v3/directline',
      token: session.token,
      // A reloaded page rejoins its conversation and Web Chat replays the transcript.
      conversationId: session.resumed ? session.conversationId : undefined,
      webSocket: true
    });

    function remember() {
      try { if (directLine.token) window.sessionStorage.setItem(STORAGE_KEY, directLine.token); } catch (e) { /* storage disabled */ }
    }

    directLine.connectionStatus$.subscribe(function (status) {
      root.setAttribute('data-connection-status', String(status));
      if (status === 2) remember();
      if (status === 4 || status === 5) {
        // Failed or ended (e.g. the conversation is no longer kept): the next load starts afresh.
        try { window.sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* storage disabled */ }
        showError();
      }
    });
    window.addEventListener('pagehide', remember);
    window.setInterval(remember, 60000);

    window.WebChat.renderWebChat({
      directLine: directLine,
      locale: locale,
      userID: session.userId,
      styleOptions: styleOptions
    }, root);
  }).catch(showError);
})();
