document.getElementById('app').textContent = 'Shadowgate dashboard';
